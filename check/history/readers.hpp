#pragma once
// The readers of each history format (internal to check/history; parse.hpp
// picks one). Each fills `h` or names the line it cannot understand.

#include <string_view>

#include "check/history/history.hpp"
#include "check/history/parse.hpp"

namespace dkv::check::history_lines {

// What marks a line of a Jepsen register log.
inline constexpr std::string_view jepsen_marker = "jepsen.util - ";

bool parse_jepsen(std::string_view text, history& h, parse_error& error);
bool parse_edn(std::string_view text, history& h, parse_error& error);
bool parse_dkv_json(std::string_view text, history& h, parse_error& error);

}  // namespace dkv::check::history_lines
