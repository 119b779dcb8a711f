// libFuzzer target: decode arbitrary bytes. Whatever decodes must survive
// re-encoding: encode, decode again, and get the same message, in exactly
// encoded_size() bytes. Built and run by run_fuzzers.sh.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/protocol/message.hpp"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "message_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dkv::net;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  message first;
  std::string why;
  if (!decode(input, first, why)) {
    if (why.empty()) fail("decode failed without saying why");
    return 0;
  }
  std::string bytes;
  encode(first, bytes);
  if (bytes.size() != encoded_size(first)) fail("encoded_size disagrees with encode");
  // Re-encoding only drops: trailing bytes, fields sent empty.
  if (bytes.size() > size) fail("re-encoding is longer than the input");
  message second;
  if (!decode(bytes, second, why)) fail(("re-encoded message does not decode: " + why).c_str());
  if (!(second == first)) fail("re-encoded message decodes to a different message");
  return 0;
}
