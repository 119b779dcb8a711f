// The message codec against docs/protocol.md: every field combination
// round-trips, the bytes match the spec computed by hand, and damaged input
// (cut short, hostile lengths, unknown types) is refused with a reason.

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "net/protocol/message.hpp"
#include "tests/net/protocol/hex.hpp"

using namespace dkv::net;
using dkv::test::from_hex;

namespace {

constexpr int last_type = static_cast<int>(message_type::status);

// Each field present or absent with even odds, so every combination of
// flags comes up; present fields take arbitrary contents (an arbitrary
// string may itself be empty, i.e. absent).
rc::Gen<message> gen_message() {
  return rc::gen::exec([] {
    message m;
    m.type = static_cast<message_type>(*rc::gen::inRange(0, last_type + 1));
    const auto maybe = [] { return *rc::gen::arbitrary<bool>(); };
    if (maybe()) m.key = *rc::gen::arbitrary<std::string>();
    if (maybe()) m.expire_in = *rc::gen::arbitrary<std::uint64_t>();
    if (maybe()) m.delete_in = *rc::gen::arbitrary<std::uint64_t>();
    if (maybe()) m.value = *rc::gen::arbitrary<std::string>();
    m.ok = maybe();
    if (maybe()) m.err = *rc::gen::arbitrary<std::string>();
    if (maybe()) m.meta = *rc::gen::arbitrary<std::string>();
    if (maybe()) m.code = *rc::gen::arbitrary<std::uint8_t>();
    return m;
  });
}

// A message whose present fields are exactly those in `flags`.
message with_fields(std::uint8_t flags) {
  message m;
  m.type = message_type::custom;
  if (flags & field::key) m.key = "key";
  if (flags & field::expire_in) m.expire_in = 11;
  if (flags & field::delete_in) m.delete_in = 22;
  if (flags & field::value) m.value = std::string("v\0v", 3);
  if (flags & field::ok) m.ok = true;
  if (flags & field::err) m.err = "KVStoreError (code Timeout): late";
  if (flags & field::meta) m.meta = index_meta(33);
  if (flags & field::code) m.code = 4;
  return m;
}

std::string encoded(const message& m) {
  std::string out;
  encode(m, out);
  return out;
}

// Every field set, with values whose bytes are easy to spot.
message full_message() {
  message m;
  m.type = message_type::set_e;
  m.key = "k1";
  m.expire_in = 0x0102030405060708;
  m.delete_in = 1000;
  m.value = "v";
  m.ok = true;
  m.err = "e!";
  m.meta = index_meta(7);
  m.code = 4;
  return m;
}

}  // namespace

TEST_CASE("message codec: decode(encode(m)) == m for random messages") {
  rc::prop("round trip", [] {
    const message m = *gen_message();
    const std::string bytes = encoded(m);
    RC_ASSERT(bytes.size() == encoded_size(m));
    message back;
    std::string why;
    RC_ASSERT(decode(bytes, back, why));
    RC_ASSERT(back == m);
  });
}

TEST_CASE("message codec: each of the 256 field combinations sets exactly its flags and round-trips") {
  for (int flags = 0; flags < 256; ++flags) {
    const message m = with_fields(static_cast<std::uint8_t>(flags));
    const std::string bytes = encoded(m);
    INFO("flags " << flags);
    REQUIRE(static_cast<std::uint8_t>(bytes[1]) == flags);
    REQUIRE(bytes.size() == encoded_size(m));
    message back;
    std::string why;
    REQUIRE(decode(bytes, back, why));
    CHECK(back == m);
  }
}

TEST_CASE("message codec: a fully populated message has the bytes docs/protocol.md gives") {
  // Computed by hand from the field table, one field per line.
  const std::string expected = from_hex(
      "04 ff"                      // type setE, every flag
      "00000002 6b31"              // key "k1"
      "0102030405060708"           // expireIn
      "00000000000003e8"           // deleteIn 1000
      "00000001 76"                // value "v"
      "01"                         // ok
      "00000002 6521"              // err "e!"
      "00000008 0000000000000007"  // meta: write index 7
      "04");                       // code 4 (Timeout)
  const message m = full_message();
  CHECK(encoded(m) == expected);
  CHECK(encoded_size(m) == 49);
  message back;
  std::string why;
  REQUIRE(decode(expected, back, why));
  CHECK(back == m);
}

TEST_CASE("message codec: encode appends, leaving what the buffer held") {
  std::string out = "prefix";
  encode(full_message(), out);
  CHECK(out.substr(0, 6) == "prefix");
  CHECK(out.substr(6) == encoded(full_message()));
}

TEST_CASE("message codec: absent fields read as zero, reusing a message clears them") {
  message back = full_message();
  std::string why;
  REQUIRE(decode(from_hex("08 00"), back, why));
  message bare;
  bare.type = message_type::get;
  CHECK(back == bare);
}

TEST_CASE("message codec: every truncation point of a valid encoding fails with a reason") {
  const std::string bytes = encoded(full_message());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    message back;
    std::string why;
    INFO("cut at " << cut);
    CHECK_FALSE(decode(std::string_view(bytes).substr(0, cut), back, why));
    CHECK_FALSE(why.empty());
  }
  rc::prop("random messages cut anywhere fail", [] {
    const std::string bytes = encoded(*gen_message());
    const auto cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
    message back;
    std::string why;
    RC_ASSERT_FALSE(decode(std::string_view(bytes).substr(0, cut), back, why));
    RC_ASSERT_FALSE(why.empty());
  });
}

TEST_CASE("message codec: the reason names what is missing") {
  message back;
  std::string why;
  CHECK_FALSE(decode("", back, why));
  CHECK(why == "empty message: the type and flags bytes are missing");
  CHECK_FALSE(decode(from_hex("03"), back, why));
  CHECK(why == "truncated message: 1 byte, the type and flags need 2");
  CHECK_FALSE(decode(from_hex("03 08 0000000c 616263"), back, why));
  CHECK(why == "truncated value: 12 bytes announced, 3 left");
  CHECK_FALSE(decode(from_hex("03 01 0000"), back, why));
  CHECK(why == "truncated key length: 4 bytes needed, 2 left");
  CHECK_FALSE(decode(from_hex("06 02 01020304"), back, why));
  CHECK(why == "truncated expireIn: 8 bytes needed, 4 left");
  CHECK_FALSE(decode(from_hex("01 80"), back, why));
  CHECK(why == "truncated code: 1 bytes needed, 0 left");
}

TEST_CASE("message codec: a length beyond the payload fails without allocating it") {
  message back;
  std::string why;
  CHECK_FALSE(decode(from_hex("03 01 ffffffff 6b"), back, why));
  CHECK(why == "truncated key: 4294967295 bytes announced, 1 left");
  CHECK(back.key.capacity() < 1024);
}

TEST_CASE("message codec: a type past the last enumerated is refused") {
  message back;
  std::string why;
  REQUIRE(decode(from_hex("0d 00"), back, why));
  CHECK(back.type == message_type::db_info);
  REQUIRE(decode(from_hex("0e 00"), back, why));
  CHECK(back.type == message_type::remove_if_value);
  REQUIRE(decode(from_hex("0f 00"), back, why));
  CHECK(back.type == message_type::status);
  CHECK_FALSE(decode(from_hex("10 00"), back, why));
  CHECK(why == "unknown message type 16");
  CHECK_FALSE(decode(from_hex("ff 00"), back, why));
  CHECK(why == "unknown message type 255");
}

TEST_CASE("message codec: bytes after the last field are ignored") {
  rc::prop("trailing bytes", [] {
    const message m = *gen_message();
    const std::string bytes = encoded(m) + *rc::gen::arbitrary<std::string>();
    message back;
    std::string why;
    RC_ASSERT(decode(bytes, back, why));
    RC_ASSERT(back == m);
  });
}

TEST_CASE("message codec: what dKV may send that dkv does not") {
  message back;
  std::string why;
  SECTION("an ok byte other than 1 reads as true, 0 as false") {
    REQUIRE(decode(from_hex("09 10 02"), back, why));
    CHECK(back.ok);
    REQUIRE(decode(from_hex("09 10 00"), back, why));
    CHECK_FALSE(back.ok);
  }
  SECTION("a value or meta of length 0 (Go's empty, non-nil []byte) reads as absent") {
    REQUIRE(decode(from_hex("08 58 00000000 01 00000000"), back, why));
    message found_empty;
    found_empty.type = message_type::get;
    found_empty.ok = true;
    CHECK(back == found_empty);
  }
}

TEST_CASE("message codec: meta carries a write index as 8 bytes big-endian") {
  CHECK(index_meta(0x0102030405060708) == from_hex("0102030405060708"));
  CHECK(meta_index(index_meta(0x0102030405060708)) == 0x0102030405060708);
  CHECK(meta_index(index_meta(~std::uint64_t{0})) == ~std::uint64_t{0});
  CHECK(meta_index("") == 0);
  CHECK(meta_index("1234567") == 0);
  CHECK(meta_index("123456789") == 0);
}
