#include "check/history/parse.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

namespace dkv::check {

namespace {

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

bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

std::string_view trim(std::string_view s) {
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

// --- Jepsen register logs: "INFO  jepsen.util - P <ws> :TYPE <ws> :F <ws> VALUE" ---

constexpr std::string_view jepsen_marker = "jepsen.util - ";

bool parse_jepsen(std::string_view text, history& h, parse_error& error) {
  return parse_events(text, h, error, [&](std::size_t number, std::string_view line, event_pairer& pairer, auto fail) {
    const std::size_t at = line.find(jepsen_marker);
    if (at == std::string_view::npos) return fail("not a Jepsen event line");
    std::string_view rest = line.substr(at + jepsen_marker.size());
    // Fields are separated by tabs or runs of spaces; the value is the rest (it may be "[1 2]").
    std::string_view fields[3];
    for (auto& field : fields) {
      rest = trim(rest);
      const std::size_t end = rest.find_first_of(" \t");
      if (end == std::string_view::npos) return fail("expected: process, :type, :f, value");
      field = rest.substr(0, end);
      rest = rest.substr(end);
    }
    const std::string_view value = trim(rest);
    std::uint32_t process;
    if (!parse_int(fields[0], process)) return fail("bad process '" + std::string(fields[0]) + "'");
    const std::string_view type = fields[1], f = fields[2];
    if (f != ":read" && f != ":write" && f != ":cas") return fail("unknown operation " + std::string(f));

    if (type == ":invoke") {
      operation op;
      op.process = process;
      op.call_ns = number;
      op.line = number;
      op.f = std::string(f.substr(1));
      if (f == ":write") {
        std::int64_t v;
        if (!parse_int(value, v)) return fail("write needs a number, got '" + std::string(value) + "'");
        op.a = v;
      } else if (f == ":cas") {
        std::int64_t old_value, new_value;
        const std::size_t space = value.find_first_of(" \t");
        if (value.size() < 5 || value.front() != '[' || value.back() != ']' || space == std::string_view::npos ||
            !parse_int(value.substr(1, space - 1), old_value) ||
            !parse_int(value.substr(space + 1, value.size() - space - 2), new_value))
          return fail("cas needs [old new], got '" + std::string(value) + "'");
        op.a = old_value;
        op.b = new_value;
      }
      if (!pairer.invoke(std::move(op))) return fail("process " + std::to_string(process) + " invokes twice");
      return true;
    }
    operation* op = pairer.pending(process);
    if (!op) return fail("completion without an invocation for process " + std::to_string(process));
    if (op->f != f.substr(1)) return fail("completion of " + std::string(f) + " does not match the invoked :" + op->f);
    if (type == ":ok") {
      op->result = outcome::ok;
      op->return_ns = number;
      if (f == ":read" && value != "nil") {
        std::int64_t v;
        if (!parse_int(value, v)) return fail("read returned '" + std::string(value) + "'");
        op->result_number = v;
      }
    } else if (type == ":fail") {
      op->result = outcome::fail;
      op->return_ns = number;
    } else if (type == ":info") {
      op->result = outcome::info;
      op->return_ns = never;
    } else {
      return fail("unknown type " + std::string(type));
    }
    pairer.complete(process, h);
    return true;
  });
}

// --- EDN key-value logs: {:process 0, :type :ok, :f :get, :key "1", :value "x"} ---

// Reads one EDN map of keyword keys to scalar values (string, keyword, integer, nil).
bool parse_edn_map(std::string_view line, std::map<std::string, std::optional<std::string>>& out, std::string& why) {
  line = trim(line);
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') {
    why = "not an EDN map";
    return false;
  }
  std::string_view s = line.substr(1, line.size() - 2);
  auto skip = [&] {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) s.remove_prefix(1);
  };
  for (skip(); !s.empty(); skip()) {
    if (s.front() != ':') {
      why = "expected a :keyword";
      return false;
    }
    const std::size_t end = s.find_first_of(" \t,");
    if (end == std::string_view::npos) {
      why = "a key without a value";
      return false;
    }
    const std::string key(s.substr(1, end - 1));
    s.remove_prefix(end);
    skip();
    if (s.empty()) {
      why = "a key without a value";
      return false;
    }
    if (s.front() == '"') {
      std::string value;
      std::size_t i = 1;
      for (; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i];
      }
      if (i >= s.size()) {
        why = "unterminated string";
        return false;
      }
      out[key] = std::move(value);
      s.remove_prefix(i + 1);
    } else {
      const std::size_t stop = std::min(s.find_first_of(" \t,"), s.size());
      const std::string_view token = s.substr(0, stop);
      out[key] = token == "nil" ? std::nullopt : std::optional<std::string>(std::string(token));
      s.remove_prefix(stop);
    }
  }
  return true;
}

bool parse_edn(std::string_view text, history& h, parse_error& error) {
  return parse_events(text, h, error, [&](std::size_t number, std::string_view line, event_pairer& pairer, auto fail) {
    std::map<std::string, std::optional<std::string>> fields;
    std::string why;
    if (!parse_edn_map(line, fields, why)) return fail(why);
    auto field = [&](const char* name) -> std::optional<std::string> {
      const auto it = fields.find(name);
      return it == fields.end() ? std::nullopt : it->second;
    };
    const auto process_text = field("process"), type = field("type"), f = field("f"), key = field("key");
    std::uint32_t process;
    if (!process_text || !parse_int(*process_text, process)) return fail("missing or bad :process");
    if (!type || !f || !key) return fail("missing :type, :f or :key");
    if (*f != ":get" && *f != ":put" && *f != ":append") return fail("unknown operation " + *f);
    const auto value = field("value");
    if (*type == ":invoke") {
      operation op;
      op.process = process;
      op.call_ns = number;
      op.line = number;
      op.f = f->substr(1);
      op.key = *key;
      if (*f != ":get") {
        if (!value) return fail(*f + " needs a :value");
        op.value = *value;
      }
      if (!pairer.invoke(std::move(op))) return fail("process " + std::to_string(process) + " invokes twice");
      return true;
    }
    operation* op = pairer.pending(process);
    if (!op) return fail("completion without an invocation for process " + std::to_string(process));
    if (op->f != f->substr(1) || op->key != *key) return fail("completion does not match the invocation");
    if (*type == ":ok") {
      op->result = outcome::ok;
      op->return_ns = number;
      if (*f == ":get") op->result_value = value.value_or("");
    } else if (*type == ":fail") {
      op->result = outcome::fail;
      op->return_ns = number;
    } else if (*type == ":info") {
      op->result = outcome::info;
      op->return_ns = never;
    } else {
      return fail("unknown type " + *type);
    }
    pairer.complete(process, h);
    return true;
  });
}

// --- dkv JSON lines (HISTORY.md) ---

bool decode_base64(std::string_view in, std::string& out) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int d = digit(c);
    if (d < 0) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return true;
}

// A byte string: a JSON string, or {"base64": "..."}.
bool read_bytes(const nlohmann::json& j, std::string& out) {
  if (j.is_string()) {
    out = j.get<std::string>();
    return true;
  }
  if (j.is_object() && j.contains("base64") && j["base64"].is_string())
    return decode_base64(j["base64"].get<std::string>(), out);
  return false;
}

bool parse_dkv_json(std::string_view text, history& h, parse_error& error) {
  return parse_events(text, h, error, [&](std::size_t number, std::string_view line, event_pairer& pairer, auto fail) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
    if (!j.contains("type") || !j["type"].is_string()) return fail("missing \"type\"");
    const std::string type = j["type"].get<std::string>();
    const std::uint64_t t = j.contains("t") && j["t"].is_number_unsigned() ? j["t"].get<std::uint64_t>() : 0;
    if (type == "fault") {
      fault_event fault{t, j.value("fault", std::string("fault")), {}};
      nlohmann::json details = j;
      details.erase("t");
      details.erase("type");
      details.erase("fault");
      fault.description = fault.kind + (details.empty() ? "" : " " + details.dump());
      h.faults.push_back(std::move(fault));
      return true;
    }
    if (type != "invoke" && type != "ok" && type != "fail" && type != "info") return true;  // meta and future types
    if (!j.contains("process") || !j["process"].is_number_unsigned()) return fail("missing \"process\"");
    const auto process = j["process"].get<std::uint32_t>();
    if (!j.contains("t") || !j["t"].is_number_unsigned()) return fail("missing \"t\"");
    if (type == "invoke") {
      operation op;
      op.process = process;
      op.call_ns = t;
      op.line = number;
      if (!j.contains("f") || !j["f"].is_string()) return fail("missing \"f\"");
      op.f = j["f"].get<std::string>();
      static const char* known[] = {"set", "setE", "setEIfUnset", "expire", "delete", "deleteIfValue", "get", "has"};
      if (std::find(std::begin(known), std::end(known), op.f) == std::end(known)) return fail("unknown f \"" + op.f + "\"");
      if (!j.contains("key") || !read_bytes(j["key"], op.key)) return fail("missing or bad \"key\"");
      if (j.contains("value") && !read_bytes(j["value"], op.value)) return fail("bad \"value\"");
      op.expire_in = j.value("e", std::uint64_t{0});
      op.delete_in = j.value("d", std::uint64_t{0});
      if (!pairer.invoke(std::move(op))) return fail("process " + std::to_string(process) + " invokes twice");
      return true;
    }
    operation* op = pairer.pending(process);
    if (!op) return fail("completion without an invocation for process " + std::to_string(process));
    if (j.contains("f") && j["f"] != op->f) return fail("completion does not match the invoked " + op->f);
    if (t < op->call_ns) return fail("completion before its invocation");
    op->code = j.value("code", 0);
    if (type == "ok") {
      op->result = outcome::ok;
      op->return_ns = t;
      op->found = j.value("found", false) || j.value("deleted", false);
      if (j.contains("value")) {
        std::string value;
        if (!read_bytes(j["value"], value)) return fail("bad \"value\"");
        op->result_value = std::move(value);
      }
      if (j.contains("index")) {
        if (!j["index"].is_number_unsigned()) return fail("bad \"index\"");
        op->index = j["index"].get<std::uint64_t>();
      }
    } else if (type == "fail") {
      op->result = outcome::fail;
      op->return_ns = t;
    } else {
      op->result = outcome::info;
      op->return_ns = never;
    }
    pairer.complete(process, h);
    return true;
  });
}

}  // namespace

history_format detect_format(std::string_view text) {
  history_format format = history_format::empty;
  for_each_line(text, [&](std::size_t, std::string_view line) {
    if (blank(line)) return true;
    if (line.find(jepsen_marker) != std::string_view::npos) format = history_format::jepsen_register;
    else if (line.find(":process") != std::string_view::npos) format = history_format::edn_kv;
    else format = history_format::dkv_json;
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
