#include "net/server/store_requests.hpp"

#include <catch2/catch.hpp>

#include "store/lstore.hpp"

namespace dkv::net {
namespace {

message request_of(message_type type, std::string key = "k", std::string value = "v", std::uint64_t e = 7,
                   std::uint64_t d = 9) {
  message m;
  m.type = type;
  m.key = std::move(key);
  m.value = std::move(value);
  m.expire_in = e;
  m.delete_in = d;
  return m;
}

TEST_CASE("every store request maps to its store call, with the fields its type takes") {
  struct row {
    message_type type;
    operation_kind op;
    bool key, value, schedule;
  };
  const row rows[] = {
      {message_type::set, operation_kind::set, true, true, false},
      {message_type::set_e, operation_kind::set_e, true, true, true},
      {message_type::set_e_if_unset, operation_kind::set_e_if_unset, true, true, true},
      {message_type::expire, operation_kind::expire, true, false, false},
      {message_type::remove, operation_kind::remove, true, false, false},
      {message_type::remove_if_value, operation_kind::remove_if_value, true, true, false},
      {message_type::get, operation_kind::get, true, false, false},
      {message_type::has, operation_kind::has, true, false, false},
      {message_type::db_info, operation_kind::info, false, false, false},
  };
  for (const row& r : rows) {
    CAPTURE(static_cast<int>(r.type));
    actors::store_call call;
    std::string why;
    REQUIRE(to_store_call(request_of(r.type), call, why));
    CHECK(call.op == static_cast<std::uint8_t>(r.op));
    CHECK(call.key == (r.key ? "k" : ""));
    CHECK(call.value == (r.value ? "v" : ""));
    CHECK(call.expire_in == (r.schedule ? 7u : 0u));
    CHECK(call.delete_in == (r.schedule ? 9u : 0u));
    // The moving overload agrees.
    actors::store_call moved;
    REQUIRE(to_store_call(message(request_of(r.type)), moved, why));
    CHECK(moved.op == call.op);
    CHECK(moved.key == call.key);
    CHECK(moved.value == call.value);
  }
}

TEST_CASE("types that are not store operations are refused with a reason") {
  for (const auto type : {message_type::unknown, message_type::success, message_type::error, message_type::lock_acquire,
                          message_type::lock_release, message_type::custom, static_cast<message_type>(99)}) {
    actors::store_call call;
    std::string why;
    CHECK_FALSE(to_store_call(request_of(type), call, why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("answers map to responses of the request's type") {
  actors::store_answer ok;
  ok.index = 42;
  for (const auto type : {message_type::set, message_type::set_e, message_type::set_e_if_unset, message_type::expire,
                          message_type::remove}) {
    const message r = to_response(type, ok);
    CHECK(r.type == type);
    CHECK(r.err.empty());
    CHECK(r.code == 0);
    CHECK(meta_index(r.meta) == 42);
    CHECK_FALSE(r.ok);
  }
  actors::store_answer found = ok;
  found.found = true;
  found.value = "value";
  const message got = to_response(message_type::get, found);
  CHECK(got.ok);
  CHECK(got.value == "value");
  CHECK(meta_index(got.meta) == 42);
  const message moved = to_response(message_type::get, actors::store_answer(found));
  CHECK(moved == got);
  CHECK(to_response(message_type::has, found).ok);
  CHECK(to_response(message_type::remove_if_value, found).ok);
  CHECK_FALSE(to_response(message_type::get, ok).ok);
  CHECK(to_response(message_type::get, ok).value.empty());

  actors::store_answer info;
  info.info.engine = "flat";
  info.info.size_bytes = 10;
  info.info.features = 3;
  info.info.metadata = {{"write_index", "5"}, {"key_count", "2"}};
  const message json = to_response(message_type::db_info, info);
  CHECK(json.value ==
        R"({"engine":"flat","features":3,"metadata":{"key_count":"2","write_index":"5"},"size_bytes":10})");
}

TEST_CASE("errors carry dKV's text and the ext code, and no index") {
  for (const auto code : {error_code::internal_error, error_code::unsupported_operation, error_code::invalid_operation,
                          error_code::timeout, error_code::unavailable}) {
    actors::store_answer a;
    a.code = static_cast<std::uint8_t>(code);
    a.message = "it failed";
    a.index = 3;
    const message r = to_response(message_type::set, a);
    CHECK(r.type == message_type::set);
    CHECK(r.code == static_cast<std::uint8_t>(code));
    CHECK(r.err == error(code, "it failed").to_string());
    CHECK(r.meta.empty());
  }
  const message invalid = invalid_request_response("unknown shard 7");
  CHECK(invalid.type == message_type::error);
  CHECK(invalid.code == 3);
  CHECK(invalid.err == "KVStoreError (code InvalidOperation): unknown shard 7");
}

TEST_CASE("run_on executes each call on a local store") {
  lstore store;
  auto run = [&](message_type type, std::string key, std::string value = {}, std::uint64_t e = 0, std::uint64_t d = 0) {
    actors::store_call call;
    std::string why;
    REQUIRE(to_store_call(request_of(type, std::move(key), std::move(value), e, d), call, why));
    return run_on(store, call);
  };
  CHECK(run(message_type::set, "a", "1").index == 1);
  CHECK(run(message_type::set_e, "b", "2", 0, 10).index == 2);
  CHECK(run(message_type::set_e_if_unset, "a", "x", 0, 0).index == 3);
  auto got = run(message_type::get, "a");
  CHECK(got.found);
  CHECK(got.value == "1");
  CHECK(got.index == 3);
  CHECK(run(message_type::has, "b").found);
  CHECK(run(message_type::expire, "b").index == 4);
  CHECK_FALSE(run(message_type::get, "b").found);
  CHECK_FALSE(run(message_type::remove_if_value, "a", "wrong").found);
  CHECK(run(message_type::remove_if_value, "a", "1").found);
  CHECK(run(message_type::remove, "b").index == 7);
  CHECK_FALSE(run(message_type::has, "b").found);
  const auto info = run(message_type::db_info, "");
  CHECK(info.code == 0);
  CHECK(info.info.metadata.at("write_index") == "7");
  const auto over = run(message_type::set, std::string(store.limits().max_key_bytes + 1, 'k'), "v");
  CHECK(over.code == static_cast<std::uint8_t>(error_code::invalid_operation));
  CHECK(over.index == 0);
  CHECK(to_response(message_type::set, over).code == 3);
}

}  // namespace
}  // namespace dkv::net
