#pragma once
// The lock operations of the protocol (types 10 and 11, docs/protocol.md) on a
// lock manager, whatever store it runs over:
//   acquire: key, deleteIn = timeout in store writes  ->  ok = acquired, value = owner id,
//            ext meta = the acquiring write's index (a fencing token)
//   release: key, value = owner id                    ->  ok = released

#include "net/protocol/message.hpp"
#include "store/lock_manager.hpp"

namespace dkv::net {

// `request` must be a lock acquire or release.
message serve_lock_request(lock_manager& locks, const message& request);

}  // namespace dkv::net
