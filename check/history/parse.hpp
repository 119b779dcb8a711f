#pragma once
// Reading histories: dkv's JSON lines (docs/history.md), Jepsen register logs and
// EDN key-value logs (the formats of tests/data/porcupine). The format
// is detected from the content. Parsing is forgiving about layout (tabs or
// runs of spaces, blank lines, an empty file) and strict about meaning: an
// event that cannot be understood is an error naming its line.

#include <optional>
#include <string>
#include <string_view>

#include "check/history/history.hpp"

namespace dkv::check {

struct parse_error {
  std::size_t line = 0;
  std::string reason;
};

// The format of `text`, from its first non-blank line.
history_format detect_format(std::string_view text);
std::string_view format_name(history_format format) noexcept;

// Parses `text` in its detected format (or `forced`); false and `error` on failure.
bool parse_history(std::string_view text, history& out, parse_error& error,
                   std::optional<history_format> forced = std::nullopt);

}  // namespace dkv::check
