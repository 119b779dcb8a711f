#include "store/assert.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace dkv {

namespace {

// nullptr: the default. Read only when an assertion fails.
std::atomic<assertion_handler> installed{nullptr};

}  // namespace

std::string assertion_failure::message() const {
  std::string text = std::string(file) + ":" + std::to_string(line) + ": " + expression;
  if (!values.empty()) text += " (" + values + ")";
  return text;
}

void abort_on_assertion(const assertion_failure& failure) noexcept {
  // One write, so that lines of threads failing together do not interleave.
  const std::string line = "dkv: assertion failed: " + failure.message() + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  std::abort();
}

assertion_handler set_assertion_handler(assertion_handler handler) noexcept { return installed.exchange(handler); }

namespace detail {

std::string_view nth_name(std::string_view names, std::size_t i) noexcept {
  std::size_t start = 0, depth = 0;
  for (std::size_t at = 0; at <= names.size(); ++at) {
    const char c = at < names.size() ? names[at] : ',';
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    if (c != ',' || depth > 0) continue;
    if (i-- == 0) {
      std::string_view name = names.substr(start, at - start);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      return name;
    }
    start = at + 1;
  }
  return {};
}

void fail(const char* file, int line, const char* expression, std::string values) {
  const assertion_failure failure{file, line, expression, std::move(values)};
  if (const assertion_handler handler = installed.load()) handler(failure);
  abort_on_assertion(failure);  // also when a handler returned: it must not go on past a broken invariant
}

}  // namespace detail
}  // namespace dkv
