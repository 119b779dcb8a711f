#include "sim/run/workload.hpp"

#include <fmt/format.h>

#include <cmath>

namespace dkv::sim {

namespace {

// The plain operations of a mix with their weights, in a fixed order.
std::vector<std::pair<operation_kind, unsigned>> weighted(const operation_mix& m) {
  return {{operation_kind::get, m.get},
          {operation_kind::has, m.has},
          {operation_kind::set, m.set},
          {operation_kind::set_e, m.set_e},
          {operation_kind::set_e_if_unset, m.set_e_if_unset},
          {operation_kind::expire, m.expire},
          {operation_kind::remove, m.remove},
          {operation_kind::remove_if_value, m.remove_if_value}};
}

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

simulated_clients::simulated_clients(sim_cluster& cluster, std::size_t clients, const actors::client_config& config)
    : cluster_(cluster) {
  for (std::size_t i = 0; i < clients; ++i) clients_.push_back(std::make_unique<sim_client>(cluster_, config));
}

simulated_clients::~simulated_clients() = default;

std::uint64_t simulated_clients::now_ns() const { return cluster_.sim().now_ns(); }

void simulated_clients::at(std::uint64_t t_ns, std::string what, std::function<void()> action) {
  cluster_.sim().at(t_ns, std::move(what), std::move(action));
}

void simulated_clients::submit(std::size_t client, actors::store_call call, answer_callback done) {
  clients_.at(client)->submit(std::move(call), std::move(done));
}

workload::workload(workload_world& world, history_recorder* history, dkv::rng random, workload_options options)
    : world_(world), history_(history), random_(random), options_(std::move(options)) {
  make_processes();
}

workload::workload(sim_cluster& cluster, history_recorder* history, dkv::rng random, workload_options options)
    : owned_world_(std::make_unique<simulated_clients>(cluster, options.clients, options.client)),
      world_(*owned_world_),
      history_(history),
      random_(random),
      options_(std::move(options)) {
  make_processes();
}

void workload::make_processes() {
  for (std::size_t i = 0; i < options_.clients; ++i) {
    client_process p;
    p.process = next_process_++;
    processes_.push_back(std::move(p));
  }
  for (const scripted_call& c : options_.script)
    if (c.client < processes_.size()) processes_[c.client].scripted.push_back(&c);
}

workload::~workload() = default;

void workload::start() {
  for (std::size_t i = 0; i < processes_.size(); ++i) next(i);
}

void workload::next(std::size_t index) {
  const std::uint64_t now = world_.now_ns();
  std::uint64_t think = 0;
  if (options_.scripted) {
    const client_process& p = processes_[index];
    if (p.next_scripted == p.scripted.size()) return;
    const std::uint64_t at = p.scripted[p.next_scripted]->at_ns;
    think = at > now ? at - now : 0;
  } else if (options_.max_think_ns != 0) {
    think = random_.below(options_.max_think_ns + 1);
  }
  if (now + think >= options_.stop_ns) return;
  if (think == 0) return issue(index);
  world_.at(now + think, "workload: client " + std::to_string(index), [this, index] { issue(index); });
}

std::size_t workload::draw_key() {
  if (options_.key_skew <= 0) return random_.below(options_.keys);
  // u^(1 + 9 skew) for u uniform in [0, 1): the first keys the more likely the larger the skew.
  const double u = static_cast<double>(random_.below(1u << 30)) / static_cast<double>(1u << 30);
  const auto k = static_cast<std::size_t>(static_cast<double>(options_.keys) * std::pow(u, 1 + 9 * options_.key_skew));
  return std::min(k, options_.keys - 1);
}

// The tag padded to a size in [min, max] that the tag alone decides (FNV-1a),
// so that a deleteIfValue naming a tag names the value that was written.
std::string workload::padded(std::string tag) const {
  if (options_.max_value_bytes == 0) return tag;
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : tag) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  const std::size_t low = std::min(options_.min_value_bytes, options_.max_value_bytes);
  const std::size_t size = low + h % (options_.max_value_bytes - low + 1);
  if (tag.size() < size) tag.append(size - tag.size(), '.');
  return tag;
}

void workload::choose(client_process& p, std::size_t index, actors::store_call& call, operation& op) {
  if (options_.scripted) {
    call = p.scripted[p.next_scripted++]->call;
  } else {
    draw(p, index, call);
  }
  op.f = check::history_name(static_cast<operation_kind>(call.op));
  op.process = p.process;
  op.key = call.key;
  op.value = call.value;
  op.expire_in = call.expire_in;
  op.delete_in = call.delete_in;
}

void workload::draw(client_process& p, std::size_t index, actors::store_call& call) {
  const auto pick = [&](operation_kind o) { call.op = static_cast<std::uint8_t>(o); };
  const auto fresh_value = [&] { return fmt::format("v{}.{}", index, p.operations); };
  lock_state& lock = p.lock;
  if (lock.now == lock_state::step::check_acquired) {  // acquire's second half: is the lock ours?
    pick(operation_kind::get);
    call.key = lock.key;
  } else if (options_.locks > 0 && random_.below(100) < options_.mix.lock) {
    if (lock.now == lock_state::step::free) {  // acquire: SetEIfUnset(key, owner, 0, timeout), then Get
      pick(operation_kind::set_e_if_unset);
      lock.key = "lock" + std::to_string(random_.below(options_.locks));
      lock.owner = "owner" + fresh_value();
      call.key = lock.key;
      call.value = lock.owner;
      call.delete_in = 1 + random_.below(options_.max_schedule);
    } else {  // release: DeleteIfValue(key, owner)
      pick(operation_kind::remove_if_value);
      call.key = lock.key;
      call.value = lock.owner;
    }
  } else {
    const auto mix = weighted(options_.mix);
    unsigned total = 0;
    for (const auto& [o, weight] : mix) total += weight;
    auto roll = static_cast<unsigned>(random_.below(std::max(total, 1u)));
    std::size_t chosen = 0;
    while (chosen + 1 < mix.size() && roll >= mix[chosen].second) roll -= mix[chosen++].second;
    const operation_kind o = total == 0 ? operation_kind::get : mix[chosen].first;
    pick(o);
    call.key = fmt::format("k{}", draw_key());
    switch (o) {
      case operation_kind::set_e:
      case operation_kind::set_e_if_unset:
        call.expire_in = random_.below(options_.max_schedule + 1);
        call.delete_in = random_.below(options_.max_schedule + 1);
        [[fallthrough]];
      case operation_kind::set: call.value = padded(fresh_value()); break;
      case operation_kind::remove_if_value:  // a value some client wrote, or one nobody did
        call.value = padded(fmt::format("v{}.{}", random_.below(options_.clients), random_.below(p.operations + 1)));
        break;
      default: break;
    }
  }
}

void workload::issue(std::size_t index) {
  client_process& p = processes_[index];
  actors::store_call call;
  operation op;
  choose(p, index, call, op);
  ++p.operations;
  ++issued_;
  if (options_.record_script)
    issued_calls_.push_back({static_cast<std::uint32_t>(index), world_.now_ns(), call});
  const std::size_t id = history_ ? history_->invoke(world_.now_ns(), op) : 0;
  world_.submit(index, std::move(call),
                [this, index, id, op](const actors::store_answer& answer) { answered(index, id, op, answer); });
}

void workload::answered(std::size_t index, std::size_t history_id, const operation& op,
                        const actors::store_answer& answer) {
  ++answered_;
  client_process& p = processes_[index];
  const op_result r = result_of(op, answer);
  if (history_) history_->complete(history_id, world_.now_ns(), r);
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
