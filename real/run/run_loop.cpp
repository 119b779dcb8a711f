#include "real/run/run_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <optional>

namespace dkv::real {

std::uint64_t run_loop::now_ns() const {
  const auto since = std::chrono::steady_clock::now() - start_;
  return since.count() < 0 ? 0 : static_cast<std::uint64_t>(std::chrono::nanoseconds(since).count());
}

void run_loop::at(std::uint64_t t_ns, std::function<void()> action) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, start_ + std::chrono::nanoseconds(t_ns));
  timer->async_wait([timer, action = std::move(action)](const boost::system::error_code& ec) {
    if (!ec) action();
  });
}

void run_loop::after(std::uint64_t delay_ns, std::function<void()> action) {
  at(now_ns() + delay_ns, std::move(action));
}

void run_loop::check_interrupted() const {
  if (interrupted_ && interrupted_->load()) throw interrupted{};
}

void run_loop::run_until(std::uint64_t t_ns, const std::function<bool()>& done) {
  while (now_ns() < t_ns && !(done && done())) {
    check_interrupted();
    io_.run_one_for(std::chrono::nanoseconds(std::min<std::uint64_t>(t_ns - now_ns(), 20 * ms_ns)));
  }
}

void run_loop::wait_for(const std::function<bool()>& done) {
  while (!done()) {
    check_interrupted();
    io_.run_one_for(std::chrono::milliseconds(20));
  }
}

std::shared_ptr<net::remote_client> run_loop::client(std::vector<std::string> endpoints, std::uint64_t timeout_ns) {
  net::remote_client_options o;
  o.endpoints = std::move(endpoints);
  o.call_timeout = std::chrono::milliseconds(std::max<std::uint64_t>(1, timeout_ns / ms_ns));
  o.connect_timeout = std::chrono::milliseconds(200);
  return std::make_shared<net::remote_client>(o);
}

void run_loop::call(net::remote_client& client, std::uint64_t shard, net::message request,
                    std::function<void(net::message)> done) {
  client.call(shard, std::move(request), [this, done = std::move(done)](net::message response) {
    boost::asio::post(io_, [done, response = std::move(response)]() mutable { done(std::move(response)); });
  });
}

net::message run_loop::call_and_wait(net::remote_client& client, std::uint64_t shard, net::message request) {
  std::optional<net::message> answer;
  call(client, shard, std::move(request), [&answer](net::message response) { answer = std::move(response); });
  wait_for([&answer] { return answer.has_value(); });
  return std::move(*answer);
}

}  // namespace dkv::real
