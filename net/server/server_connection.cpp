#include "net/server/server_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "net/server/store_requests.hpp"

namespace dkv::net::detail {

namespace {

constexpr std::size_t read_chunk_bytes = 256u << 10;
// A write buffer that grew past this (a big value) is freed after use
// rather than kept for the connection's lifetime.
constexpr std::size_t kept_buffer_bytes = 4u << 20;

// The connection whose read handler is dispatching on this thread: a reply
// made inside it is appended directly, without a post.
thread_local const server_connection* dispatching = nullptr;

void append_frame_of(std::string& out, std::uint64_t shard, std::uint64_t request, const message& m) {
  const std::size_t length = encoded_size(m);
  append_frame_header(out, {shard, request, static_cast<std::uint32_t>(length)});
  encode(m, out);
}

void drop_big_buffer(std::string& buffer) {
  if (buffer.capacity() > kept_buffer_bytes)
    std::string().swap(buffer);
  else
    buffer.clear();
}

}  // namespace

server_connection::server_connection(stream_socket socket, connection_strand strand, const server_context& context,
                                     std::shared_ptr<server_gate> gate)
    : context_(context),
      gate_(std::move(gate)),
      strand_(std::move(strand)),
      socket_(std::move(socket)),
      reader_(context.max_frame_bytes),
      read_buffer_(read_chunk_bytes) {
  idle_timer_.emplace(*strand_);
}

server_connection::~server_connection() {
  const std::lock_guard lock(gate_->registry_mutex);
  gate_->registry.erase(this);
  release();
}

void server_connection::release() {
  if (socket_ && !closed_) context_.counters.open.fetch_sub(1, std::memory_order_relaxed);
  closed_ = true;
  idle_timer_.reset();
  socket_.reset();
  strand_.reset();
}

void server_connection::start() {
  last_read_ = std::chrono::steady_clock::now();
  arm_idle_timer(last_read_ + context_.idle_timeout);
  read();
}

void server_connection::read() {
  socket_->async_read_some(boost::asio::buffer(read_buffer_),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t bytes) {
                             self->on_read(ec, bytes);
                           });
}

void server_connection::on_read(const boost::system::error_code& ec, std::size_t bytes) {
  if (closed_) return;
  if (ec) {  // EOF or a broken connection: answer what is owed, then close
    reading_done_ = true;
    close_when_done();
    return;
  }
  last_read_ = std::chrono::steady_clock::now();
  reader_.feed(std::string_view(read_buffer_.data(), bytes));
  dispatching = this;
  frame_header header;
  std::string_view payload;
  for (bool more = true; more && !closed_;) {
    switch (reader_.next(header, payload)) {
      case frame_reader::status::frame:
        context_.counters.requests.fetch_add(1, std::memory_order_relaxed);
        dispatch(header, payload);
        break;
      case frame_reader::status::need_more: more = false; break;
      case frame_reader::status::oversize:
        // The stream cannot be resynchronised: answer this request, then close.
        context_.counters.oversize.fetch_add(1, std::memory_order_relaxed);
        append(header.shard, header.request,
               invalid_request_response("frame of " + std::to_string(header.length) + " bytes exceeds the limit of " +
                                        std::to_string(context_.max_frame_bytes)));
        reading_done_ = true;
        more = false;
        break;
    }
  }
  dispatching = nullptr;
  flush();
  if (reading_done_)
    close_when_done();
  else if (!closed_)
    read();
}

void server_connection::dispatch(const frame_header& header, std::string_view payload) {
  const auto found = context_.shards.find(header.shard);
  if (found == context_.shards.end()) {
    context_.counters.invalid.fetch_add(1, std::memory_order_relaxed);
    append(header.shard, header.request, invalid_request_response("unknown shard " + std::to_string(header.shard)));
    return;
  }
  message request;
  std::string why;
  if (!decode(payload, request, why)) {
    context_.counters.invalid.fetch_add(1, std::memory_order_relaxed);
    append(header.shard, header.request, invalid_request_response("undecodable payload: " + why));
    return;
  }
  ++in_flight_;
  try {
    found->second->handle(std::move(request), reply_to(header));
  } catch (...) {
    // A shard that throws may or may not have replied: the request's fate is
    // unknown, so the connection goes (its client reports Timeout).
    close();
  }
}

std::function<void(message)> server_connection::reply_to(const frame_header& header) {
  return [self = shared_from_this(), shard = header.shard, request = header.request](message response) mutable {
    if (!self) return;  // a second reply: the contract says once
    server_connection* connection = self.get();
    connection->complete(std::move(self), shard, request, std::move(response));
  };
}

void server_connection::complete(std::shared_ptr<server_connection> self, std::uint64_t shard, std::uint64_t request,
                                 message response) {
  if (dispatching == this) {  // inline, on the strand: the read handler flushes
    --in_flight_;
    append(shard, request, response);
    return;
  }
  std::string frame;
  append_frame_of(frame, shard, request, response);
  const std::shared_lock lock(gate_->stop_mutex);
  if (gate_->stopped) return;  // the server is gone or going: drop it
  boost::asio::post(*strand_, [self = std::move(self), frame = std::move(frame)]() mutable {
    --self->in_flight_;
    if (self->closed_) return;
    if (self->pending_.empty())
      self->pending_.swap(frame);
    else
      self->pending_ += frame;
    self->flush();
    self->close_when_done();
  });
}

void server_connection::append(std::uint64_t shard, std::uint64_t request, const message& response) {
  if (!closed_) append_frame_of(pending_, shard, request, response);
}

void server_connection::flush() {
  if (write_busy_ || pending_.empty() || closed_) return;
  write_busy_ = true;
  writing_.swap(pending_);
  boost::asio::async_write(
      *socket_, boost::asio::buffer(writing_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_written(ec); });
}

void server_connection::on_written(const boost::system::error_code& ec) {
  write_busy_ = false;
  if (closed_) return;
  if (ec) {
    close();
    return;
  }
  drop_big_buffer(writing_);
  flush();
  close_when_done();
}

void server_connection::arm_idle_timer(std::chrono::steady_clock::time_point deadline) {
  idle_timer_->expires_at(deadline);
  idle_timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) { self->on_idle(ec); });
}

void server_connection::on_idle(const boost::system::error_code& ec) {
  if (ec || closed_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = last_read_ + context_.idle_timeout;
  // Not idle while the server still owes it answers or bytes.
  const bool owing = in_flight_ > 0 || write_busy_ || !pending_.empty();
  if (now >= deadline && !owing) {
    context_.counters.idle_closes.fetch_add(1, std::memory_order_relaxed);
    close();
    return;
  }
  arm_idle_timer(now >= deadline ? now + context_.idle_timeout : deadline);
}

void server_connection::close_when_done() {
  if (reading_done_ && in_flight_ == 0 && !write_busy_ && pending_.empty()) close();
}

void server_connection::close() {
  if (closed_) return;
  closed_ = true;
  context_.counters.open.fetch_sub(1, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket_->shutdown(stream_socket::shutdown_both, ignored);
  socket_->close(ignored);
  idle_timer_->cancel();
  drop_big_buffer(pending_);
}

}  // namespace dkv::net::detail
