#pragma once
// What the three history readers share (internal to check/history): lines
// with their numbers, small text helpers, and the pairing of invocations
// with completions — one operation in flight per process, and operations
// still in flight at the end indeterminate.

#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "check/history/history.hpp"
#include "check/history/parse.hpp"

namespace dkv::check::history_lines {

// Splits into lines, keeping their numbers (1-based); a final newline adds no line.
template <typename Fn>
bool for_each_line(std::string_view text, Fn&& fn) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number;
    if (!fn(number, line)) return false;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return true;
}

inline bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

inline std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

template <typename Int>
bool parse_int(std::string_view s, Int& out) {
  s = trim(s);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// Pairs invocations with completions, one operation in flight per process.
class event_pairer {
 public:
  // Starts an operation; false if the process already has one in flight.
  bool invoke(operation op) {
    auto [it, fresh] = pending_.try_emplace(op.process, std::move(op));
    return fresh;
  }
  // Completes the process's operation; nullptr if it has none.
  operation* pending(std::uint32_t process) {
    const auto it = pending_.find(process);
    return it == pending_.end() ? nullptr : &it->second;
  }
  void complete(std::uint32_t process, history& h) {
    h.operations.push_back(std::move(pending_.at(process)));
    pending_.erase(process);
  }
  // Operations still in flight at the end are indeterminate.
  void finish(history& h) {
    for (auto& [process, op] : pending_) {
      op.result = outcome::info;
      op.return_ns = never;
      h.operations.push_back(std::move(op));
    }
    pending_.clear();
    // By call time, and invocations at one time in the file's order (the
    // recorder's ids): not in the order they happened to complete.
    std::sort(h.operations.begin(), h.operations.end(), [](const operation& a, const operation& b) {
      return std::tie(a.call_ns, a.line) < std::tie(b.call_ns, b.line);
    });
  }

 private:
  std::map<std::uint32_t, operation> pending_;
};

// Feeds every non-blank line to `parse_line(number, line, pairer, fail)`,
// where `fail(reason)` records the error at that line and returns false;
// operations still in flight at the end become indeterminate.
template <typename Fn>
bool parse_events(std::string_view text, history& h, parse_error& error, Fn&& parse_line) {
  event_pairer pairer;
  const bool ok = for_each_line(text, [&](std::size_t number, std::string_view line) {
    if (blank(line)) return true;
    auto fail = [&error, number](std::string reason) {
      error = {number, std::move(reason)};
      return false;
    };
    return parse_line(number, line, pairer, fail);
  });
  if (ok) pairer.finish(h);
  return ok;
}

}  // namespace dkv::check::history_lines
