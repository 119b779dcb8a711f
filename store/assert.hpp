#pragma once
// DKV_ASSERT(cond, values...): a contract the code relies on, checked in
// every build (Release too: a broken invariant in production must stop the
// node, as etcd's raft panics, rather than write a corrupt log on). A failed
// one reports file, line, the condition's text and the values given:
//
//   DKV_ASSERT(commit <= last, commit, last);
//   -> store/raft/raft_log.cpp:42: commit <= last (commit=7 last=5)
//
// and hands that to the process's assertion handler: by default it goes to
// stderr and the process aborts. The deterministic simulator installs one
// that records the failure and throws broken_invariant, so that a simulated
// run ends as a failed check with its seed instead of a crashed process
// (sim/simulator/assertion_trap.hpp). So: no DKV_ASSERT in a destructor or a
// noexcept function, where the throw would terminate the process.
//
// Cheap when it holds: the check is inline, the failure path a cold call
// out of line; the values are only evaluated and formatted on failure.
// Printable values: bool, integers, enums (as their number), floating
// point, and anything convertible to std::string_view.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace dkv {

struct assertion_failure {
  const char* file = "";  // as the build names it: relative to the project's root
  int line = 0;
  const char* expression = "";  // the condition as written
  std::string values;           // "commit=7 last=5", or empty
  // "file:line: expression (values)"
  std::string message() const;
};

// Gets every failed assertion. It must not return: it aborts, or throws to
// unwind to a caller that ends the work cleanly.
using assertion_handler = void (*)(const assertion_failure&);

// The default: "dkv: assertion failed: <message>" on stderr, then abort().
[[noreturn]] void abort_on_assertion(const assertion_failure& failure) noexcept;

// Installs `handler` for the whole process (nullptr: the default) and
// returns the one it replaces.
assertion_handler set_assertion_handler(assertion_handler handler) noexcept;

// What a handler that unwinds throws: what() is the failure's message.
class broken_invariant : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class T>
void append_value(std::string& out, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    out += value ? "true" : "false";
  } else if constexpr (std::is_enum_v<T>) {
    out += std::to_string(static_cast<std::underlying_type_t<T>>(value));
  } else if constexpr (std::is_integral_v<T> && sizeof(T) == 1) {
    out += std::to_string(static_cast<int>(value));  // a byte is a number here, not a character
  } else if constexpr (std::is_arithmetic_v<T>) {
    out += std::to_string(value);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out += '"';
    out += std::string_view(value);
    out += '"';
  } else {
    static_assert(sizeof(T) == 0, "DKV_ASSERT: give this value as a number, an enum, a bool or a string");
  }
}

// The i-th of the comma-separated expressions in `names` (commas inside
// brackets do not count), trimmed; empty if there is none.
std::string_view nth_name(std::string_view names, std::size_t i) noexcept;

[[noreturn]] void fail(const char* file, int line, const char* expression, std::string values);

// The failure path: formats "name=value ..." and fails.
template <class... Ts>
[[noreturn, gnu::cold, gnu::noinline]] void assertion_failed(const char* file, int line, const char* expression,
                                                             const char* names, const Ts&... values) {
  std::string text;
  std::size_t i = 0;
  [[maybe_unused]] const auto add = [&](const auto& value) {
    if (i > 0) text += ' ';
    const std::string_view name = nth_name(names, i++);
    text.append(name.empty() ? std::string_view("?") : name);
    text += '=';
    append_value(text, value);
  };
  (add(values), ...);
  fail(file, line, expression, std::move(text));
}

}  // namespace detail
}  // namespace dkv

#define DKV_ASSERT(cond, ...)                                                                              \
  do {                                                                                                     \
    if (!(cond)) [[unlikely]]                                                                              \
      ::dkv::detail::assertion_failed(__FILE__, __LINE__, #cond, #__VA_ARGS__ __VA_OPT__(, ) __VA_ARGS__); \
  } while (false)
