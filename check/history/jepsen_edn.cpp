// Reading the logs of the external ground truth (tests/data/porcupine):
// Jepsen register logs and EDN key-value logs.

#include <map>
#include <optional>
#include <string>

#include "check/history/event_lines.hpp"
#include "check/history/readers.hpp"

namespace dkv::check::history_lines {

// --- Jepsen register logs: "INFO  jepsen.util - P <ws> :TYPE <ws> :F <ws> VALUE" ---

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

namespace {

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

}  // namespace

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

}  // namespace dkv::check::history_lines
