#include "net/server/lock_requests.hpp"

namespace dkv::net {

namespace {

void set_error(message& m, const error& e) {
  m.err = e.to_string();
  m.code = static_cast<std::uint8_t>(e.code());
}

}  // namespace

message serve_lock_request(lock_manager& locks, const message& request) {
  message response;
  response.type = request.type;
  if (request.type == message_type::lock_acquire) {
    lock_acquire_result r = locks.AcquireLock(request.key, request.delete_in);
    if (!r.err.ok()) {
      set_error(response, r.err);
      return response;
    }
    response.ok = r.acquired;
    if (r.acquired) {
      response.value = std::move(r.owner_id);
      response.meta = index_meta(r.index);
    }
    return response;
  }
  lock_release_result r = locks.ReleaseLock(request.key, request.value);
  if (!r.err.ok()) set_error(response, r.err);
  response.ok = r.released;
  return response;
}

}  // namespace dkv::net
