#include "net/server/lstore_shard.hpp"

#include "net/server/store_requests.hpp"

namespace dkv::net {

namespace {

// dKV's error text plus the ext code, on a response of the request's type.
void set_error(message& response, const error& err) {
  response.err = err.to_string();
  response.code = static_cast<std::uint8_t>(err.code());
}

}  // namespace

lstore_shard::lstore_shard(std::shared_ptr<istore> store)
    : store_(std::move(store)), rng_(std::random_device{}()), locks_(*store_, [this] { return random64(); }) {}

std::uint64_t lstore_shard::random64() {
  const std::lock_guard lock(rng_mutex_);
  return rng_();
}

void lstore_shard::handle(message request, std::function<void(message)> reply) { reply(answer(std::move(request))); }

message lstore_shard::answer(message&& request) {
  if (request.type == message_type::lock_acquire) return acquire(request);
  if (request.type == message_type::lock_release) return release(request);
  const message_type type = request.type;
  actors::store_call call;
  std::string why;
  if (!to_store_call(std::move(request), call, why)) return invalid_request_response(std::move(why));
  return to_response(type, run_on(*store_, call));
}

message lstore_shard::acquire(const message& request) {
  lock_acquire_result r = locks_.AcquireLock(request.key, request.delete_in);
  message response;
  response.type = message_type::lock_acquire;
  if (!r.err.ok()) {
    set_error(response, r.err);
    return response;
  }
  response.ok = r.acquired;
  response.value = std::move(r.owner_id);
  if (r.acquired) response.meta = index_meta(r.index);
  return response;
}

message lstore_shard::release(const message& request) {
  const lock_release_result r = locks_.ReleaseLock(request.key, request.value);
  message response;
  response.type = message_type::lock_release;
  if (!r.err.ok()) {
    set_error(response, r.err);
    return response;
  }
  response.ok = r.released;
  return response;
}

}  // namespace dkv::net
