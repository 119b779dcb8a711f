#include "net/server/lstore_shard.hpp"

#include "net/server/lock_requests.hpp"
#include "net/server/store_requests.hpp"

namespace dkv::net {

lstore_shard::lstore_shard(std::shared_ptr<istore> store, bool serves_locks)
    : store_(std::move(store)),
      serves_locks_(serves_locks),
      rng_(std::random_device{}()),
      locks_(*store_, [this] { return random64(); }) {}

std::uint64_t lstore_shard::random64() {
  const std::lock_guard lock(rng_mutex_);
  return rng_();
}

void lstore_shard::handle(message request, std::function<void(message)> reply) { reply(answer(std::move(request))); }

message lstore_shard::answer(message&& request) {
  if (request.type == message_type::status) {  // always well: it lives in this process
    message response;
    response.type = message_type::status;
    response.value = R"({"kind":"lstore"})";
    return response;
  }
  if (request.type == message_type::lock_acquire || request.type == message_type::lock_release) {
    if (!serves_locks_) return invalid_request_response("shard serves no lock operations (it is not a lockmgr shard)");
    return serve_lock_request(locks_, request);
  }
  const message_type type = request.type;
  actors::store_call call;
  std::string why;
  if (!to_store_call(std::move(request), call, why)) return invalid_request_response(std::move(why));
  return to_response(type, run_on(*store_, call));
}

}  // namespace dkv::net
