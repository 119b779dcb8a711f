// Reading dkv's own histories: JSON lines (docs/history.md).

#include <nlohmann/json.hpp>

#include "check/history/event_lines.hpp"
#include "check/history/readers.hpp"

namespace dkv::check::history_lines {

namespace {

// --- dkv JSON lines (docs/history.md) ---

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

// A node id (1 and up) in field `name`; false if it is missing or not one.
bool read_id(const nlohmann::json& j, const char* name, std::uint32_t& out) {
  if (!j.contains(name) || !j[name].is_number_unsigned()) return false;
  const auto id = j[name].get<std::uint64_t>();
  if (id == 0 || id > UINT32_MAX) return false;
  out = static_cast<std::uint32_t>(id);
  return true;
}

// Faults are for the report, never the verdict: a field of the wrong shape
// is left out rather than refused.
fault_event read_fault(const nlohmann::json& j, std::uint64_t t) {
  fault_event fault;
  fault.time_ns = t;
  fault.kind = j.value("fault", std::string("fault"));
  if (j.contains("description") && j["description"].is_string()) {
    fault.description = j["description"].get<std::string>();
  } else {
    nlohmann::json details = j;
    for (const char* field : {"t", "type", "fault"}) details.erase(field);
    fault.description = fault.kind + (details.empty() ? "" : " " + details.dump());
  }
  read_id(j, "node", fault.node);
  read_id(j, "from", fault.from);
  read_id(j, "to", fault.to);
  if (j.contains("groups") && j["groups"].is_array())
    for (const nlohmann::json& group : j["groups"]) {
      std::vector<std::uint32_t> members;
      if (group.is_array())
        for (const nlohmann::json& member : group)
          if (member.is_number_unsigned()) members.push_back(member.get<std::uint32_t>());
      fault.groups.push_back(std::move(members));
    }
  return fault;
}

}  // namespace

bool parse_dkv_json(std::string_view text, history& h, parse_error& error) {
  return parse_events(text, h, error, [&](std::size_t number, std::string_view line, event_pairer& pairer, auto fail) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
    if (!j.contains("type") || !j["type"].is_string()) return fail("missing \"type\"");
    const std::string type = j["type"].get<std::string>();
    const std::uint64_t t = j.contains("t") && j["t"].is_number_unsigned() ? j["t"].get<std::uint64_t>() : 0;
    if (type == "fault") {
      h.faults.push_back(read_fault(j, t));
      return true;
    }
    if (type == "node") {
      node_event e;
      e.time_ns = t;
      if (!read_id(j, "node", e.node)) return fail("a node event without \"node\"");
      if (j.contains("role") && !j["role"].is_string()) return fail("bad \"role\"");
      if (j.contains("term") && !j["term"].is_number_unsigned()) return fail("bad \"term\"");
      e.role = j.value("role", std::string());
      e.term = j.value("term", std::uint64_t{0});
      h.nodes.push_back(std::move(e));
      return true;
    }
    if (type == "meta") {
      if (j.contains("nodes") && j["nodes"].is_number_unsigned()) h.node_count = j["nodes"].get<std::size_t>();
      return true;
    }
    if (type != "invoke" && type != "ok" && type != "fail" && type != "info") return true;  // future types
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
      // GetDBInfo is no operation of a history: it reads no key.
      if (const auto kind = operation_named(op.f); !kind || *kind == operation_kind::info)
        return fail("unknown f \"" + op.f + "\"");
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

}  // namespace dkv::check::history_lines
