#pragma once
// One store behind the protocol server, addressed by the frame's shard id.
// handle() must call `reply` exactly once, from any thread, possibly later:
// an lstore shard answers inline, a dstore shard when its client actor has
// the answer. The server matches the reply to the request by id, so replies
// may come in any order.

#include <functional>

#include "net/protocol/message.hpp"

namespace dkv::net {

class shard {
 public:
  virtual ~shard() = default;
  virtual void handle(message request, std::function<void(message)> reply) = 0;
};

}  // namespace dkv::net
