#include "net/server/store_requests.hpp"

#include <nlohmann/json.hpp>

#include "actors/client/dstore.hpp"

namespace dkv::net {

namespace {

// The store operation of a request type, or false when the type is none.
bool op_of(message_type type, operation_kind& op) {
  switch (type) {
    case message_type::set: op = operation_kind::set; return true;
    case message_type::set_e: op = operation_kind::set_e; return true;
    case message_type::set_e_if_unset: op = operation_kind::set_e_if_unset; return true;
    case message_type::expire: op = operation_kind::expire; return true;
    case message_type::remove: op = operation_kind::remove; return true;
    case message_type::remove_if_value: op = operation_kind::remove_if_value; return true;
    case message_type::get: op = operation_kind::get; return true;
    case message_type::has: op = operation_kind::has; return true;
    case message_type::db_info: op = operation_kind::info; return true;
    default: return false;
  }
}

bool fill_call(message_type type, actors::store_call& call, std::string& why) {
  operation_kind op{};
  if (!op_of(type, op)) {
    why = "message type " + std::to_string(static_cast<unsigned>(type)) + " is not a store operation";
    return false;
  }
  call.op = static_cast<std::uint8_t>(op);
  return true;
}

// Fields a type does not take are dropped, so a stray field in a request
// never reaches the store (a Set with an expireIn is still a plain Set).
template <class Message>
bool convert(Message&& request, actors::store_call& call, std::string& why) {
  if (!fill_call(request.type, call, why)) return false;
  const auto op = static_cast<operation_kind>(call.op);
  if (op != operation_kind::info)
    call.key = std::forward<Message>(request).key;
  else
    call.key.clear();
  if (takes_value(op))
    call.value = std::forward<Message>(request).value;
  else
    call.value.clear();
  call.expire_in = takes_schedule(op) ? request.expire_in : 0;
  call.delete_in = takes_schedule(op) ? request.delete_in : 0;
  return true;
}

template <class Answer>
message respond(message_type request_type, Answer&& answer) {
  message response;
  response.type = request_type;
  if (answer.code != 0) {
    const error err = actors::error_of(answer);
    response.err = err.to_string();
    response.code = answer.code;
    return response;
  }
  response.meta = index_meta(answer.index);
  switch (request_type) {
    case message_type::get:
      response.ok = answer.found;
      if (answer.found) response.value = std::forward<Answer>(answer).value;
      break;
    case message_type::has:
    case message_type::remove_if_value: response.ok = answer.found; break;
    case message_type::db_info:
      response.meta.clear();  // db info carries its index in the JSON's metadata
      response.value = db_info_json(answer.info);
      break;
    default: break;
  }
  return response;
}

actors::store_answer answer_of(const error& err, std::uint64_t index) {
  actors::store_answer answer;
  answer.code = static_cast<std::uint8_t>(err.code());
  if (!err.ok())
    answer.message = err.message();
  else
    answer.index = index;
  return answer;
}

}  // namespace

bool to_store_call(const message& request, actors::store_call& call, std::string& why) {
  return convert(request, call, why);
}

bool to_store_call(message&& request, actors::store_call& call, std::string& why) {
  return convert(std::move(request), call, why);
}

message to_response(message_type request_type, const actors::store_answer& answer) {
  return respond(request_type, answer);
}

message to_response(message_type request_type, actors::store_answer&& answer) {
  return respond(request_type, std::move(answer));
}

message invalid_request_response(std::string why) {
  message response;
  response.type = message_type::error;
  response.err = invalid_operation(std::move(why)).to_string();
  response.code = static_cast<std::uint8_t>(error_code::invalid_operation);
  return response;
}

actors::store_answer run_on(istore& store, const actors::store_call& call) {
  switch (static_cast<operation_kind>(call.op)) {
    case operation_kind::set: {
      const write_result r = store.Set(call.key, call.value);
      return answer_of(r.err, r.index);
    }
    case operation_kind::set_e: {
      const write_result r = store.SetE(call.key, call.value, call.expire_in, call.delete_in);
      return answer_of(r.err, r.index);
    }
    case operation_kind::set_e_if_unset: {
      const write_result r = store.SetEIfUnset(call.key, call.value, call.expire_in, call.delete_in);
      return answer_of(r.err, r.index);
    }
    case operation_kind::expire: {
      const write_result r = store.Expire(call.key);
      return answer_of(r.err, r.index);
    }
    case operation_kind::remove: {
      const write_result r = store.Delete(call.key);
      return answer_of(r.err, r.index);
    }
    case operation_kind::remove_if_value: {
      const delete_if_value_result r = store.DeleteIfValue(call.key, call.value);
      actors::store_answer answer = answer_of(r.err, r.index);
      answer.found = r.err.ok() && r.deleted;
      return answer;
    }
    case operation_kind::get: {
      get_result r = store.Get(call.key);
      actors::store_answer answer = answer_of(r.err, r.index);
      if (r.err.ok()) {
        answer.found = r.found;
        answer.value = std::move(r.value);
      }
      return answer;
    }
    case operation_kind::has: {
      const has_result r = store.Has(call.key);
      actors::store_answer answer = answer_of(r.err, r.index);
      answer.found = r.err.ok() && r.found;
      return answer;
    }
    case operation_kind::info: {
      db_info_result r = store.GetDBInfo();
      actors::store_answer answer = answer_of(r.err, 0);
      if (r.err.ok()) answer.info = std::move(r.info);
      return answer;
    }
  }
  return answer_of(invalid_operation("unknown store operation " + std::to_string(call.op)), 0);
}

std::string db_info_json(const db_info& info) {
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [name, value] : info.metadata) metadata[name] = value;
  const nlohmann::json doc = {{"size_bytes", info.size_bytes},
                              {"engine", info.engine},
                              {"features", info.features},
                              {"metadata", std::move(metadata)}};
  // Replace invalid UTF-8 instead of throwing: metadata is the store's text.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dkv::net
