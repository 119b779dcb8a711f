#include "sim/faults/fault.hpp"

namespace dkv::sim {

namespace {

std::string group_list(const std::vector<std::vector<node_id>>& groups) {
  std::string out;
  for (const auto& group : groups) {
    if (!out.empty()) out += " | ";
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (i) out += ",";
      out += std::to_string(group[i]);
    }
  }
  return out;
}

constexpr std::pair<std::string_view, fault_kind> kind_names[] = {
    {"split", fault_kind::split},
    {"one_way", fault_kind::one_way},
    {"isolate", fault_kind::isolate},
    {"bridge", fault_kind::bridge},
    {"heal", fault_kind::heal},
    {"crash", fault_kind::crash},
    {"restart", fault_kind::restart},
    {"reboot", fault_kind::reboot},
    {"pause", fault_kind::pause},
    {"resume", fault_kind::resume},
    {"clock", fault_kind::clock},
    {"damage", fault_kind::damage_disk},
    {"lose", fault_kind::lose_disk},
    {"add_server", fault_kind::add_server},
    {"add_learner", fault_kind::add_learner},
    {"remove_server", fault_kind::remove_server},
    {"cut", fault_kind::cut_log},
    {"alone", fault_kind::alone},
};

}  // namespace

std::string_view kind_name(fault_kind kind) noexcept {
  for (const auto& [name, k] : kind_names)
    if (k == kind) return name;
  return "unknown";
}

std::optional<fault_kind> kind_named(std::string_view name) noexcept {
  for (const auto& [n, kind] : kind_names)
    if (n == name) return kind;
  return std::nullopt;
}

bool is_membership_change(fault_kind kind) noexcept {
  return kind == fault_kind::add_server || kind == fault_kind::add_learner || kind == fault_kind::remove_server;
}

std::string fault::describe() const {
  const std::string n = std::to_string(node);
  switch (kind) {
    case fault_kind::split: return "split " + group_list(groups);
    case fault_kind::one_way: return "cut " + n + "->" + std::to_string(other);
    case fault_kind::isolate: return "isolate " + n;
    case fault_kind::bridge: return "bridge " + n + " between " + group_list(groups);
    case fault_kind::heal: return "heal";
    case fault_kind::crash: return "crash " + n;
    case fault_kind::restart: return "restart " + n;
    case fault_kind::reboot: return "reboot " + n + " for " + std::to_string(downtime_ns) + "ns";
    case fault_kind::pause: return "pause " + n;
    case fault_kind::resume: return "resume " + n;
    case fault_kind::clock:
      return "clock " + n + " skew " + std::to_string(clock.skew_ns) + "ns drift " + std::to_string(clock.drift_ppm) +
             "ppm";
    case fault_kind::damage_disk: return "damage disk " + n;
    case fault_kind::lose_disk: return "lose disk " + n;
    case fault_kind::add_server: return "add server " + n;
    case fault_kind::add_learner: return "add learner " + n;
    case fault_kind::remove_server: return "remove server " + n;
    case fault_kind::cut_log: return "cut log " + n;
    case fault_kind::alone: return "alone " + n;
  }
  return "unknown";
}

std::string_view fault::history_name() const noexcept {
  switch (kind) {
    case fault_kind::split:
    case fault_kind::one_way:
    case fault_kind::isolate:
    case fault_kind::bridge: return "partition";
    case fault_kind::heal: return "heal";
    case fault_kind::crash:
    case fault_kind::reboot: return "crash";  // its restart is noted when it comes
    case fault_kind::restart: return "restart";
    case fault_kind::pause: return "pause";
    case fault_kind::resume: return "resume";
    case fault_kind::clock: return "clock";
    case fault_kind::damage_disk: return "damage";
    case fault_kind::lose_disk: return "lose";
    case fault_kind::add_server:
    case fault_kind::add_learner:
    case fault_kind::remove_server: return "membership";
    case fault_kind::cut_log: return "cut";
    case fault_kind::alone: return "alone";
  }
  return "unknown";
}

void apply(const fault& f, fault_target& target, const std::vector<node_id>& nodes) {
  switch (f.kind) {
    case fault_kind::split:
      target.cuts().heal();
      target.cuts().split(f.groups);
      break;
    case fault_kind::one_way:
      target.cuts().heal();
      target.cuts().cut_one_way(f.node, f.other);
      break;
    case fault_kind::isolate:
      target.cuts().heal();
      target.cuts().isolate(f.node, nodes);
      break;
    case fault_kind::bridge:
      target.cuts().heal();
      target.cuts().bridge(f.node, f.groups.at(0), f.groups.at(1));
      break;
    case fault_kind::heal: target.cuts().heal(); break;
    case fault_kind::crash:
    case fault_kind::reboot: target.crash(f.node); break;  // a reboot's restart is its scheduler's to apply
    case fault_kind::restart: target.restart(f.node); break;
    case fault_kind::pause: target.pause(f.node); break;
    case fault_kind::resume: target.resume(f.node); break;
    case fault_kind::clock: target.set_clock(f.node, f.clock); break;
    case fault_kind::damage_disk: target.damage_disk(f.node); break;
    case fault_kind::lose_disk: target.lose_disk(f.node); break;
    case fault_kind::cut_log: target.cut_log(f.node); break;
    case fault_kind::alone: target.misconfigure(f.node); break;
    case fault_kind::add_server:
    case fault_kind::add_learner:
    case fault_kind::remove_server: target.change_membership(f.kind, f.node); break;
  }
}

}  // namespace dkv::sim
