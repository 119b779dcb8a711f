#pragma once
// Durations as scenario files and dkv-sim's flags write them: an integer with
// a unit — "60s", "500ms", "250us", "1500000ns", "2m" — or plain seconds;
// and back, in the largest unit that writes the value exactly.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dkv::sim {

inline std::optional<std::uint64_t> parse_duration(std::string_view text) {
  std::uint64_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  const std::uint64_t scale = unit == "ns"                  ? 1
                              : unit == "us"                ? 1'000
                              : unit == "ms"                ? 1'000'000
                              : unit == "s" || unit.empty() ? 1'000'000'000
                              : unit == "m"                 ? 60'000'000'000
                                                            : 0;
  if (scale == 0 || amount > UINT64_MAX / scale) return std::nullopt;
  return amount * scale;
}

inline std::string format_duration(std::uint64_t ns) {
  if (ns == 0) return "0s";
  if (ns % 60'000'000'000 == 0) return std::to_string(ns / 60'000'000'000) + "m";
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

}  // namespace dkv::sim
