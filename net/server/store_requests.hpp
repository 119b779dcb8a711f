#pragma once
// The mapping between protocol messages (docs/protocol.md) and store
// calls, shared by every shard kind: an lstore shard runs the call on its
// store (run_on), a dstore shard hands it to a client actor; both turn the
// answer back into a response the same way.

#include <string>

#include "actors/messages.hpp"
#include "net/protocol/message.hpp"
#include "store/istore.hpp"

namespace dkv::net {

// The store call a request asks for: set, setE, setEIfUnset, expire, delete,
// deleteIfValue (ext), get, has, db info (ext). False, with the reason in
// `why`, for any other type (locks are the lock manager's, not the store's).
bool to_store_call(const message& request, actors::store_call& call, std::string& why);
// The same, moving the request's key and value instead of copying them.
bool to_store_call(message&& request, actors::store_call& call, std::string& why);

// The response to a request of `request_type` (same type, as dKV answers):
// on failure `err` in dKV's text form plus ext `code`; on success the
// result's write index as ext `meta`, get: ok = found + value, has and
// deleteIfValue: ok, db info: value = JSON of db_info.
message to_response(message_type request_type, const actors::store_answer& answer);
message to_response(message_type request_type, actors::store_answer&& answer);

// A type-2 (error) response for a request the server cannot serve (unknown
// shard, undecodable payload, a type the shard does not serve): code 3.
message invalid_request_response(std::string why);

// Executes `call` on a local store (what an lstore shard does).
actors::store_answer run_on(istore& store, const actors::store_call& call);

// db_info as the JSON a db info response carries:
// {"size_bytes":N,"engine":"...","features":N,"metadata":{"k":"v",...}}.
std::string db_info_json(const db_info& info);

}  // namespace dkv::net
