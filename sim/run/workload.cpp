#include "sim/run/workload.hpp"

#include <fmt/format.h>

namespace dkv::sim {

namespace {

using actors::store_op;

struct op_kind {
  store_op op;
  const char* f;  // HISTORY.md's name
};

// The mix of plain operations, by weight (locks come on top).
constexpr struct {
  op_kind kind;
  unsigned weight;
} mix[] = {
    {{store_op::get, "get"}, 25},
    {{store_op::has, "has"}, 6},
    {{store_op::set, "set"}, 16},
    {{store_op::set_e, "setE"}, 10},
    {{store_op::set_e_if_unset, "setEIfUnset"}, 6},
    {{store_op::expire, "expire"}, 5},
    {{store_op::remove, "delete"}, 5},
    {{store_op::remove_if_value, "deleteIfValue"}, 7},
};
constexpr unsigned lock_weight = 12;

}  // namespace

outcome outcome_of(std::uint8_t code) noexcept {
  switch (static_cast<error_code>(code)) {
    case error_code::success: return outcome::ok;
    case error_code::unsupported_operation:
    case error_code::invalid_operation:
    case error_code::unavailable: return outcome::fail;
    default: return outcome::info;
  }
}

op_result result_of(const operation& op, const actors::store_answer& answer) {
  op_result r;
  r.result = outcome_of(answer.code);
  r.code = answer.code;
  if (r.result == outcome::ok) {
    r.found = answer.found;
    r.index = answer.index;
    if (op.f == "get" && answer.found) r.value = answer.value;
  }
  return r;
}

workload::workload(sim_cluster& cluster, history_recorder* history, dkv::rng random, workload_options options)
    : cluster_(cluster), history_(history), random_(random), options_(std::move(options)) {
  for (std::size_t i = 0; i < options_.clients; ++i) {
    client_process p;
    p.client = std::make_unique<sim_client>(cluster_, options_.client);
    p.process = next_process_++;
    processes_.push_back(std::move(p));
  }
}

workload::~workload() = default;

void workload::start() {
  for (std::size_t i = 0; i < processes_.size(); ++i) next(i);
}

void workload::next(std::size_t index) {
  simulator& sim = cluster_.sim();
  const std::uint64_t think = options_.max_think_ns == 0 ? 0 : random_.below(options_.max_think_ns + 1);
  if (sim.now_ns() + think >= options_.stop_ns) return;
  if (think == 0) return issue(index);
  sim.at(sim.now_ns() + think, "workload: client " + std::to_string(index), [this, index] { issue(index); });
}

void workload::choose(client_process& p, std::size_t index, actors::store_call& call, operation& op) {
  const auto pick = [&](store_op o, const char* f) {
    call.op = static_cast<std::uint8_t>(o);
    op.f = f;
  };
  const auto fresh_value = [&] { return fmt::format("v{}.{}", index, p.operations); };
  lock_state& lock = p.lock;
  if (lock.now == lock_state::step::check_acquired) {  // acquire's second half: is the lock ours?
    pick(store_op::get, "get");
    call.key = lock.key;
  } else if (options_.locks > 0 && random_.below(100) < lock_weight) {
    if (lock.now == lock_state::step::free) {  // acquire: SetEIfUnset(key, owner, 0, timeout), then Get
      pick(store_op::set_e_if_unset, "setEIfUnset");
      lock.key = "lock" + std::to_string(random_.below(options_.locks));
      lock.owner = "owner" + fresh_value();
      call.key = lock.key;
      call.value = lock.owner;
      call.delete_in = 1 + random_.below(options_.max_schedule);
    } else {  // release: DeleteIfValue(key, owner)
      pick(store_op::remove_if_value, "deleteIfValue");
      call.key = lock.key;
      call.value = lock.owner;
    }
  } else {
    unsigned total = 0;
    for (const auto& m : mix) total += m.weight;
    auto roll = static_cast<unsigned>(random_.below(total));
    std::size_t chosen = 0;
    while (roll >= mix[chosen].weight) roll -= mix[chosen++].weight;
    pick(mix[chosen].kind.op, mix[chosen].kind.f);
    call.key = fmt::format("k{}", random_.below(options_.keys));
    switch (mix[chosen].kind.op) {
      case store_op::set_e:
      case store_op::set_e_if_unset:
        call.expire_in = random_.below(options_.max_schedule + 1);
        call.delete_in = random_.below(options_.max_schedule + 1);
        [[fallthrough]];
      case store_op::set: call.value = fresh_value(); break;
      case store_op::remove_if_value:  // a value some client wrote, or one nobody did
        call.value = fmt::format("v{}.{}", random_.below(options_.clients), random_.below(p.operations + 1));
        break;
      default: break;
    }
  }
  op.process = p.process;
  op.key = call.key;
  op.value = call.value;
  op.expire_in = call.expire_in;
  op.delete_in = call.delete_in;
}

void workload::issue(std::size_t index) {
  client_process& p = processes_[index];
  actors::store_call call;
  operation op;
  choose(p, index, call, op);
  ++p.operations;
  ++issued_;
  const std::size_t id = history_ ? history_->invoke(cluster_.sim().now_ns(), op) : 0;
  p.client->submit(std::move(call), [this, index, id, op](const actors::store_answer& answer) {
    answered(index, id, op, answer);
  });
}

void workload::answered(std::size_t index, std::size_t history_id, const operation& op,
                        const actors::store_answer& answer) {
  ++answered_;
  client_process& p = processes_[index];
  const op_result r = result_of(op, answer);
  if (history_) history_->complete(history_id, cluster_.sim().now_ns(), r);
  if (r.result == outcome::info) p.process = next_process_++;  // it never issues again under that id

  lock_state& lock = p.lock;
  if (op.key == lock.key && op.value == lock.owner && op.f == "setEIfUnset") {
    lock.now = lock_state::step::check_acquired;
  } else if (lock.now == lock_state::step::check_acquired) {
    const bool ours = r.result == outcome::ok && answer.found && answer.value == lock.owner;
    lock.now = ours ? lock_state::step::held : lock_state::step::free;
  } else if (op.f == "deleteIfValue" && op.key == lock.key && op.value == lock.owner) {
    lock.now = lock_state::step::free;
  }
  next(index);
}

}  // namespace dkv::sim
