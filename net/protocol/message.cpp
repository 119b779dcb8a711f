// The message codec. The decoder trusts nothing in the payload: every length
// is checked against what is left before anything is read or allocated, so a
// hostile u32 length costs a comparison, not an allocation.

#include "net/protocol/message.hpp"

#include <limits>
#include <stdexcept>

#include "net/protocol/big_endian.hpp"

namespace dkv::net {

namespace {

constexpr std::size_t type_and_flags_bytes = 2;
constexpr std::size_t length_prefix_bytes = 4;
// The highest type value the enum names; a larger one is refused. Move it
// when message_type grows.
constexpr auto last_type = message_type::status;

std::uint8_t flags_of(const message& m) noexcept {
  std::uint8_t flags = 0;
  if (!m.key.empty()) flags |= field::key;
  if (m.expire_in != 0) flags |= field::expire_in;
  if (m.delete_in != 0) flags |= field::delete_in;
  if (!m.value.empty()) flags |= field::value;
  if (m.ok) flags |= field::ok;
  if (!m.err.empty()) flags |= field::err;
  if (!m.meta.empty()) flags |= field::meta;
  if (m.code != 0) flags |= field::code;
  return flags;
}

void put_bytes_field(std::string& out, const std::string& bytes, const char* name) {
  if (bytes.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error(std::string("dkv::net::encode: ") + name + " is longer than a u32 length can say");
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

// Reads the payload front to back; each read either succeeds or records why
// it could not, naming the field.
class field_reader {
 public:
  field_reader(std::string_view payload, std::string& why) : rest_(payload), why_(why) {}

  bool u8(std::uint8_t& out, const char* name) {
    if (!have(1, name, "needed")) return false;
    out = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }

  bool u64(std::uint64_t& out, const char* name) {
    if (!have(8, name, "needed")) return false;
    out = get_u64(rest_.data());
    rest_.remove_prefix(8);
    return true;
  }

  bool bytes(std::string& out, const char* name) {
    if (rest_.size() < length_prefix_bytes) {
      why_ = std::string("truncated ") + name + " length: 4 bytes needed, " + std::to_string(rest_.size()) + " left";
      return false;
    }
    const std::uint32_t length = get_u32(rest_.data());
    rest_.remove_prefix(length_prefix_bytes);
    if (!have(length, name, "announced")) return false;
    out.assign(rest_.data(), length);
    rest_.remove_prefix(length);
    return true;
  }

 private:
  bool have(std::size_t n, const char* name, const char* how) {
    if (rest_.size() >= n) return true;
    why_ = std::string("truncated ") + name + ": " + std::to_string(n) + " bytes " + how + ", " +
           std::to_string(rest_.size()) + " left";
    return false;
  }

  std::string_view rest_;
  std::string& why_;
};

}  // namespace

std::size_t encoded_size(const message& m) noexcept {
  std::size_t size = type_and_flags_bytes;
  if (!m.key.empty()) size += length_prefix_bytes + m.key.size();
  if (m.expire_in != 0) size += 8;
  if (m.delete_in != 0) size += 8;
  if (!m.value.empty()) size += length_prefix_bytes + m.value.size();
  if (m.ok) size += 1;
  if (!m.err.empty()) size += length_prefix_bytes + m.err.size();
  if (!m.meta.empty()) size += length_prefix_bytes + m.meta.size();
  if (m.code != 0) size += 1;
  return size;
}

void encode(const message& m, std::string& out) {
  // libstdc++'s reserve grows geometrically, so reserving per message keeps
  // appending many messages to one buffer amortized O(1).
  out.reserve(out.size() + encoded_size(m));
  const std::uint8_t flags = flags_of(m);
  out.push_back(static_cast<char>(m.type));
  out.push_back(static_cast<char>(flags));
  if (flags & field::key) put_bytes_field(out, m.key, "key");
  if (flags & field::expire_in) put_u64(out, m.expire_in);
  if (flags & field::delete_in) put_u64(out, m.delete_in);
  if (flags & field::value) put_bytes_field(out, m.value, "value");
  if (flags & field::ok) out.push_back('\x01');
  if (flags & field::err) put_bytes_field(out, m.err, "err");
  if (flags & field::meta) put_bytes_field(out, m.meta, "meta");
  if (flags & field::code) out.push_back(static_cast<char>(m.code));
}

bool decode(std::string_view payload, message& out, std::string& why) {
  if (payload.empty()) {
    why = "empty message: the type and flags bytes are missing";
    return false;
  }
  if (payload.size() < type_and_flags_bytes) {
    why = "truncated message: 1 byte, the type and flags need 2";
    return false;
  }
  const auto type = static_cast<std::uint8_t>(payload[0]);
  if (type > static_cast<std::uint8_t>(last_type)) {
    why = "unknown message type " + std::to_string(type);
    return false;
  }
  out.type = static_cast<message_type>(type);
  const auto flags = static_cast<std::uint8_t>(payload[1]);
  field_reader read(payload.substr(type_and_flags_bytes), why);

  // An absent field is cleared rather than reassigned, so a message reused
  // across decodes keeps its strings' capacity.
  if (flags & field::key) {
    if (!read.bytes(out.key, "key")) return false;
  } else {
    out.key.clear();
  }
  out.expire_in = 0;
  if ((flags & field::expire_in) && !read.u64(out.expire_in, "expireIn")) return false;
  out.delete_in = 0;
  if ((flags & field::delete_in) && !read.u64(out.delete_in, "deleteIn")) return false;
  if (flags & field::value) {
    if (!read.bytes(out.value, "value")) return false;
  } else {
    out.value.clear();
  }
  // dKV writes 1 and reads any non-zero byte as true; so do we, so that a
  // sloppy sender is understood the way dKV's own server understands it.
  std::uint8_t ok = 0;
  if ((flags & field::ok) && !read.u8(ok, "ok")) return false;
  out.ok = ok != 0;
  if (flags & field::err) {
    if (!read.bytes(out.err, "err")) return false;
  } else {
    out.err.clear();
  }
  if (flags & field::meta) {
    if (!read.bytes(out.meta, "meta")) return false;
  } else {
    out.meta.clear();
  }
  out.code = 0;
  if ((flags & field::code) && !read.u8(out.code, "code")) return false;
  return true;  // bytes after the last field are ignored, as dKV does
}

std::string index_meta(std::uint64_t index) {
  std::string meta;
  put_u64(meta, index);
  return meta;
}

std::uint64_t meta_index(std::string_view meta) noexcept { return meta.size() == 8 ? get_u64(meta.data()) : 0; }

}  // namespace dkv::net
