#include "sim/run/history_recorder.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace dkv::sim {

namespace {

using line_json = nlohmann::ordered_json;  // keeps docs/history.md's field order

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF) — at least as strict as nlohmann's writer and reader, so whatever
// goes out as a JSON string comes back as the same bytes.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += extra + 1;
  }
  return true;
}

// Standard base64 with padding; parse.cpp's decoder reads it back.
std::string encode_base64(std::string_view in) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, in.size() - i);
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 3; ++k) group = group << 8 | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k) out += k <= n ? digits[(group >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

// A key or value: a JSON string when the bytes are valid UTF-8, else {"base64": "..."}.
line_json bytes(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  line_json wrapped = line_json::object();
  wrapped["base64"] = encode_base64(s);
  return wrapped;
}

// nlohmann's compact dump has no spaces; docs/history.md's lines have ", " and ": ".
void append(std::string& out, const line_json& j) {
  if (j.is_object() || j.is_array()) {
    out += j.is_object() ? '{' : '[';
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it != j.begin()) out += ", ";
      if (j.is_object()) out += line_json(it.key()).dump() + ": ";
      append(out, it.value());
    }
    out += j.is_object() ? '}' : ']';
  } else {
    out += j.dump(-1, ' ', false, line_json::error_handler_t::replace);
  }
}

std::string to_line(const line_json& j) {
  std::string out;
  append(out, j);
  return out;
}

bool known_f(std::string_view f) {
  static constexpr std::string_view known[] = {"set",    "setE",          "setEIfUnset", "expire",
                                               "delete", "deleteIfValue", "get",         "has"};
  return std::find(std::begin(known), std::end(known), f) != std::end(known);
}
bool takes_value(std::string_view f) { return f == "set" || f == "setE" || f == "setEIfUnset" || f == "deleteIfValue"; }
bool takes_expiry(std::string_view f) { return f == "setE" || f == "setEIfUnset"; }

// The start of every operation line: t, process, type, f, key.
line_json op_line(std::uint64_t t_ns, const operation& op, const char* type) {
  line_json j;
  j["t"] = t_ns;
  j["process"] = op.process;
  j["type"] = type;
  j["f"] = op.f;
  j["key"] = bytes(op.key);
  return j;
}

}  // namespace

history_recorder::history_recorder(std::ostream* sink) : sink_(sink) {}

void history_recorder::write(const std::string& line) {
  ++lines_;
  history_.format = check::history_format::dkv_json;  // what parse_history detects from any non-blank line
  if (sink_) *sink_ << line << '\n';
}

void history_recorder::meta(std::uint64_t t_ns, std::uint64_t seed, std::string_view scenario, std::size_t nodes) {
  nodes_ = nodes;
  history_.node_count = nodes;
  line_json j;
  j["t"] = t_ns;
  j["type"] = "meta";
  j["seed"] = seed;
  j["scenario"] = std::string(scenario);
  j["nodes"] = nodes;
  write(to_line(j));
}

std::size_t history_recorder::invoke(std::uint64_t t_ns, operation op) {
  if (!known_f(op.f)) throw std::invalid_argument("history_recorder: unknown f \"" + op.f + "\"");
  if (in_flight_.count(op.process))
    throw std::logic_error("history_recorder: process " + std::to_string(op.process) +
                           " already has an operation in flight");
  // Only what the line carries, so memory is what parse_history reads back;
  // until it completes it looks like an info (never returns).
  operation recorded;
  recorded.process = op.process;
  recorded.call_ns = t_ns;
  recorded.f = std::move(op.f);
  recorded.key = std::move(op.key);
  line_json j = op_line(t_ns, recorded, "invoke");
  if (takes_value(recorded.f)) {
    recorded.value = std::move(op.value);
    j["value"] = bytes(recorded.value);
  }
  if (takes_expiry(recorded.f)) {
    recorded.expire_in = op.expire_in;
    recorded.delete_in = op.delete_in;
    j["e"] = recorded.expire_in;
    j["d"] = recorded.delete_in;
  }
  write(to_line(j));
  recorded.line = lines_;
  const std::size_t id = history_.operations.size();
  in_flight_.emplace(recorded.process, id);
  history_.operations.push_back(std::move(recorded));
  return id;
}

void history_recorder::complete(std::size_t id, std::uint64_t t_ns, const op_result& r) {
  const auto it = id < history_.operations.size() ? in_flight_.find(history_.operations[id].process) : in_flight_.end();
  if (it == in_flight_.end() || it->second != id)
    throw std::logic_error("history_recorder: operation " + std::to_string(id) + " is not in flight");
  in_flight_.erase(it);
  operation& op = history_.operations[id];
  line_json j = op_line(t_ns, op, outcome_name(r.result));
  op.result = r.result;
  if (r.result == outcome::ok) {
    op.return_ns = t_ns;
    if (op.f == "get" || op.f == "has" || op.f == "deleteIfValue") {
      op.found = r.found;
      j[op.f == "deleteIfValue" ? "deleted" : "found"] = r.found;
    }
    if (op.f == "get" && r.found && r.value) {
      op.result_value = r.value;
      j["value"] = bytes(*r.value);
    }
    if (r.index) {
      op.index = r.index;
      j["index"] = *r.index;
    }
  } else {
    op.return_ns = r.result == outcome::fail ? t_ns : check::never;  // an info may take effect any time later
    op.code = r.code;
    j["code"] = r.code;
  }
  ++counts_[static_cast<std::size_t>(r.result)];
  write(to_line(j));
}

void history_recorder::fault(std::uint64_t t_ns, const dkv::sim::fault& f) {
  const std::string kind(f.history_name());
  line_json j;
  j["t"] = t_ns;
  j["type"] = "fault";
  j["fault"] = kind;
  switch (f.kind) {
    case fault_kind::split: j["groups"] = f.groups; break;
    case fault_kind::bridge:
      j["node"] = f.node;
      j["groups"] = f.groups;
      break;
    case fault_kind::isolate: {
      j["node"] = f.node;
      // The fault names only the node; the report wants both sides, so the
      // others are every node meta() announced (numbered 1..nodes).
      std::vector<std::vector<node_id>> groups = f.groups;
      if (groups.empty()) {
        groups = {{f.node}, {}};
        for (std::size_t n = 1; n <= nodes_; ++n)
          if (n != f.node) groups[1].push_back(static_cast<node_id>(n));
      }
      j["groups"] = groups;
      break;
    }
    case fault_kind::one_way:
      j["from"] = f.node;
      j["to"] = f.other;
      break;
    case fault_kind::heal: break;
    case fault_kind::clock:
      j["node"] = f.node;
      j["skew_ns"] = f.clock.skew_ns;
      j["drift_ppm"] = f.clock.drift_ppm;
      break;
    case fault_kind::add_server:
    case fault_kind::add_learner:
    case fault_kind::remove_server:
      j["node"] = f.node;
      j["change"] = kind_name(f.kind);
      break;
    default: j["node"] = f.node; break;  // crash, restart, pause, resume, damage_disk
  }
  j["description"] = f.describe();
  write(to_line(j));
  // What parse_history reads back from the line.
  check::fault_event event;
  event.time_ns = t_ns;
  event.kind = kind;
  event.description = f.describe();
  if (j.contains("node")) event.node = f.node;
  if (j.contains("groups")) event.groups = j["groups"].get<std::vector<std::vector<std::uint32_t>>>();
  if (f.kind == fault_kind::one_way) {
    event.from = f.node;
    event.to = f.other;
  }
  history_.faults.push_back(std::move(event));
}

void history_recorder::node(std::uint64_t t_ns, node_id id, std::string_view role, std::uint64_t term) {
  line_json j;
  j["t"] = t_ns;
  j["type"] = "node";
  j["node"] = id;
  j["role"] = std::string(role);
  j["term"] = term;
  write(to_line(j));
  history_.nodes.push_back({t_ns, id, std::string(role), term});
}

}  // namespace dkv::sim
