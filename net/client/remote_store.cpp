#include "net/client/remote_store.hpp"

#include <nlohmann/json.hpp>

namespace dkv::net {

namespace {

constexpr std::string_view kv_error_prefix = "KVStoreError (code ";

bool code_of_name(std::string_view name, error_code& code) {
  for (std::uint8_t c = 0; c <= static_cast<std::uint8_t>(error_code::unavailable); ++c) {
    if (code_name(static_cast<error_code>(c)) == name) {
      code = static_cast<error_code>(c);
      return true;
    }
  }
  return false;
}

// Splits dKV's text into its code and message; false if it is not in that form.
bool parse_kv_error(std::string_view text, error_code& code, std::string_view& message) {
  if (text.substr(0, kv_error_prefix.size()) != kv_error_prefix) return false;
  const std::string_view rest = text.substr(kv_error_prefix.size());
  const auto close = rest.find("): ");
  if (close == std::string_view::npos) return false;
  if (!code_of_name(rest.substr(0, close), code)) return false;
  message = rest.substr(close + 3);
  return true;
}

write_result as_write(const message& response) {
  error err = error_of(response);
  const std::uint64_t index = err.ok() ? meta_index(response.meta) : 0;
  return {std::move(err), index};
}

}  // namespace

error error_of(const message& response) {
  if (response.err.empty() && response.code == 0) {
    if (response.type == message_type::error) return internal_error("the server answered with an empty error");
    return {};
  }
  error_code parsed = error_code::internal_error;
  std::string_view text = response.err;
  const bool in_kv_form = parse_kv_error(response.err, parsed, text);
  if (!in_kv_form) text = response.err;
  if (response.code != 0 && response.code <= static_cast<std::uint8_t>(error_code::unavailable))
    return {static_cast<error_code>(response.code), std::string(text)};
  // A code that means success or is out of the table: trust the text, else
  // report what we got as an internal error (the outcome is unknown).
  if (in_kv_form && parsed != error_code::success) return {parsed, std::string(text)};
  return internal_error(response.err.empty() ? "error code " + std::to_string(response.code) : response.err);
}

bool db_info_of(std::string_view json, db_info& out) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  try {
    out.size_bytes = doc.value("size_bytes", std::uint64_t{0});
    out.engine = doc.value("engine", std::string());
    out.features = doc.value("features", std::uint32_t{0});
    out.metadata.clear();
    if (const auto found = doc.find("metadata"); found != doc.end() && found->is_object())
      for (const auto& [name, value] : found->items())
        out.metadata[name] = value.is_string() ? value.get<std::string>() : value.dump();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

remote_store::remote_store(std::shared_ptr<remote_client> client, std::uint64_t shard, store_limits limits)
    : client_(std::move(client)), shard_(shard), limits_(limits) {}

message remote_store::call(message_type type, std::string_view key, std::string_view value, std::uint64_t expire_in,
                           std::uint64_t delete_in) {
  message request;
  request.type = type;
  request.key.assign(key);
  request.value.assign(value);
  request.expire_in = expire_in;
  request.delete_in = delete_in;
  return client_->call_sync(shard_, std::move(request));
}

write_result remote_store::Set(std::string_view key, std::string_view value) {
  return as_write(call(message_type::set, key, value));
}

write_result remote_store::SetE(std::string_view key, std::string_view value, std::uint64_t expire_in,
                                std::uint64_t delete_in) {
  return as_write(call(message_type::set_e, key, value, expire_in, delete_in));
}

write_result remote_store::SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                                       std::uint64_t delete_in) {
  return as_write(call(message_type::set_e_if_unset, key, value, expire_in, delete_in));
}

write_result remote_store::Expire(std::string_view key) { return as_write(call(message_type::expire, key)); }

write_result remote_store::Delete(std::string_view key) { return as_write(call(message_type::remove, key)); }

delete_if_value_result remote_store::DeleteIfValue(std::string_view key, std::string_view value) {
  const message response = call(message_type::remove_if_value, key, value);
  error err = error_of(response);
  if (!err.ok()) return {std::move(err), false, 0};
  return {{}, response.ok, meta_index(response.meta)};
}

get_result remote_store::Get(std::string_view key) {
  message response = call(message_type::get, key);
  error err = error_of(response);
  if (!err.ok()) return {std::move(err), false, {}, 0};
  return {{}, response.ok, response.ok ? std::move(response.value) : std::string(), meta_index(response.meta)};
}

has_result remote_store::Has(std::string_view key) {
  const message response = call(message_type::has, key);
  error err = error_of(response);
  if (!err.ok()) return {std::move(err), false, 0};
  return {{}, response.ok, meta_index(response.meta)};
}

db_info_result remote_store::GetDBInfo() {
  const message response = call(message_type::db_info, {});
  error err = error_of(response);
  if (!err.ok()) return {std::move(err), {}};
  db_info_result result;
  if (!db_info_of(response.value, result.info)) result.err = internal_error("the server's db info is not valid JSON");
  return result;
}

}  // namespace dkv::net
