#include "check/history/parse.hpp"

#include "check/history/event_lines.hpp"
#include "check/history/readers.hpp"

namespace dkv::check {

using namespace history_lines;

history_format detect_format(std::string_view text) {
  history_format format = history_format::empty;
  for_each_line(text, [&](std::size_t, std::string_view line) {
    if (blank(line)) return true;
    if (line.find(jepsen_marker) != std::string_view::npos)
      format = history_format::jepsen_register;
    else if (line.find(":process") != std::string_view::npos)
      format = history_format::edn_kv;
    else
      format = history_format::dkv_json;
    return false;
  });
  return format;
}

std::string_view format_name(history_format format) noexcept {
  switch (format) {
    case history_format::empty: return "empty";
    case history_format::dkv_json: return "dkv";
    case history_format::jepsen_register: return "jepsen register";
    case history_format::edn_kv: return "edn kv";
  }
  return "unknown";
}

bool parse_history(std::string_view text, history& out, parse_error& error, std::optional<history_format> forced) {
  out = {};
  out.format = forced.value_or(detect_format(text));
  switch (out.format) {
    case history_format::empty: return true;
    case history_format::jepsen_register: return parse_jepsen(text, out, error);
    case history_format::edn_kv: return parse_edn(text, out, error);
    case history_format::dkv_json: return parse_dkv_json(text, out, error);
  }
  return false;
}

}  // namespace dkv::check
