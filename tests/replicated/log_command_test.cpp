// The log command codec: round trips, and every malformed input refused.

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include "store/replicated/log_command.hpp"

using namespace dkv;
using namespace dkv::replicated;

TEST_CASE("log commands round trip", "[replicated]") {
  std::string bytes;
  log_command decoded;
  encode_open_session(bytes);
  REQUIRE(decode_log_command(bytes, decoded).ok());
  REQUIRE(decoded.type == log_command_type::open_session);

  const std::string key(1000, 'k'), value("v\0v", 3);
  encode_client_write({7, 9, 3, {operation_kind::set_e, key, value, 5, 11}}, bytes);
  REQUIRE(decode_log_command(bytes, decoded).ok());
  REQUIRE(decoded.type == log_command_type::client_write);
  REQUIRE(decoded.write.session == 7);
  REQUIRE(decoded.write.sequence == 9);
  REQUIRE(decoded.write.lowest_unanswered == 3);
  REQUIRE(decoded.write.command.kind == operation_kind::set_e);
  REQUIRE(decoded.write.command.key == key);
  REQUIRE(decoded.write.command.value == value);
  REQUIRE(decoded.write.command.expire_in == 5);
  REQUIRE(decoded.write.command.delete_in == 11);
}

TEST_CASE("malformed log commands are refused", "[replicated]") {
  std::string bytes;
  log_command decoded;
  encode_client_write({1, 1, 1, {operation_kind::remove_if_value, "key", "value", 0, 0}}, bytes);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    const error e = decode_log_command(std::string_view(bytes).substr(0, cut), decoded);
    REQUIRE(e.code() == error_code::invalid_operation);
  }
  REQUIRE_FALSE(decode_log_command(bytes + "x", decoded).ok());
  std::string bad_kind = bytes;
  bad_kind[2 + 24] = 42;
  REQUIRE(decode_log_command(bad_kind, decoded).message().find("write kind") != std::string::npos);
  std::string bad_version = bytes;
  bad_version[0] = 9;
  REQUIRE_FALSE(decode_log_command(bad_version, decoded).ok());
}

TEST_CASE("random bytes never crash the decoder", "[replicated][property]") {
  rc::prop("decode either succeeds or says why", [](const std::string& bytes) {
    log_command decoded;
    const error e = decode_log_command(bytes, decoded);
    RC_ASSERT((e.ok() || !e.message().empty()));
  });
}
