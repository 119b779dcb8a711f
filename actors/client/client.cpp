#include "actors/client/client.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <chrono>

#include "store/command.hpp"
#include "store/replicated/log_command.hpp"
#include "store/replicated/state_machine.hpp"

namespace dkv::actors {

namespace {

using replicated::apply_status;

std::uint8_t code(error_code c) { return static_cast<std::uint8_t>(c); }

store_answer failure(error_code c, std::string message) {
  store_answer answer;
  answer.code = code(c);
  answer.message = std::move(message);
  return answer;
}

}  // namespace

client::client(caf::actor_config& cfg, client_config config, std::shared_ptr<transport> network,
               std::shared_ptr<local_clock> clock, std::uint64_t seed)
    : caf::event_based_actor(cfg),
      config_(std::move(config)),
      network_(std::move(network)),
      clock_(std::move(clock)),
      random_(seed),
      next_request_(config_.first_request) {
  if (!config_.nodes.empty()) rotation_ = random_.below(config_.nodes.size());
}

void client::on_exit() {
  calls_.clear();
  timers_ = {};
}

caf::behavior client::make_behavior() {
  return {
      [this](store_call& op) -> caf::result<store_answer> {
        const auto kind = static_cast<operation_kind>(op.op);
        if (op.op < static_cast<std::uint8_t>(operation_kind::set) ||
            op.op > static_cast<std::uint8_t>(operation_kind::info))
          return failure(error_code::invalid_operation, "unknown operation " + std::to_string(op.op));
        if (error e = config_.limits.check(op.key, is_write(kind) ? std::string_view(op.value) : std::string_view());
            !e.ok())
          return failure(e.code(), e.message());
        if (calls_.size() >= config_.max_calls)
          return failure(error_code::unavailable, "too many calls in flight at this client");
        call c;
        c.kind = is_write(kind) ? purpose::write : purpose::read;
        c.op = std::move(op);
        c.promise = make_response_promise<store_answer>();
        auto promise = c.promise;
        const std::uint64_t id = next_call_++;
        start(id, std::move(c));
        arm(config_.call_timeout_ns, {id, 0, client_timer_kind::deadline});
        return promise;
      },
      [this](const command_outcome& o) { on_command_outcome(o); },
      [this](const read_outcome& o) { on_read_outcome(o); },
      [this](const client_wakeup& w) { wake_up(w.due_ns); },
  };
}

void client::start(std::uint64_t id, call c) {
  call& placed = calls_.emplace(id, std::move(c)).first->second;
  if (placed.kind == purpose::write && session_ == 0) {
    waiting_.push_back(id);
    return open_session_if_needed();
  }
  if (placed.kind == purpose::write) number(placed);
  send_attempt(id, placed);
}

void client::open_session_if_needed() {
  if (opening_ != 0 || session_ != 0) return;
  opening_ = next_call_++;
  call open;
  open.kind = purpose::open_session;
  start(opening_, std::move(open));
}

void client::on_session(std::uint64_t session) {
  finish(opening_, store_answer{});  // its other attempts may open sessions too: unused, they are evicted in time
  session_ = session;
  next_sequence_ = 1;
  std::deque<std::uint64_t> ready;
  ready.swap(waiting_);
  for (std::uint64_t id : ready)
    if (auto it = calls_.find(id); it != calls_.end()) {
      number(it->second);
      send_attempt(id, it->second);
    }
}

void client::number(call& c) {
  c.session = session_;
  c.sequence = next_sequence_++;
}

void client::session_lost(std::uint64_t session) {
  if (session == session_) session_ = 0;
}

std::uint64_t client::lowest_unanswered() const {
  std::uint64_t lowest = next_sequence_;
  for (const auto& [id, c] : calls_)
    if (c.kind == purpose::write && c.session == session_ && c.sequence != 0) lowest = std::min(lowest, c.sequence);
  return lowest;
}

net_address client::target() {
  if (config_.home != 0) return config_.home;
  if (leader_ != 0) return leader_;
  return config_.nodes[rotation_++ % config_.nodes.size()];
}

void client::send_attempt(std::uint64_t id, call& c) {
  if (config_.nodes.empty()) return;  // nobody to ask: the deadline answers Unavailable
  const std::uint64_t request = next_request_++;
  const net_address to = target();
  requests_[request] = {id, to, c.session};
  c.requests.push_back(request);
  c.outstanding.insert(request);
  if (c.kind == purpose::read) {
    const auto op = static_cast<operation_kind>(c.op.op);
    const read_kind kind = op == operation_kind::has    ? read_kind::has
                           : op == operation_kind::info ? read_kind::info
                                                        : read_kind::get;
    network_->send(to,
                   caf::make_message(read_command{config_.self, request, c.op.key, static_cast<std::uint8_t>(kind)}));
  } else {
    if (c.kind == purpose::open_session) {
      replicated::encode_open_session(buffer_);
    } else {
      replicated::client_write write;
      write.session = c.session;
      write.sequence = c.sequence;
      write.lowest_unanswered = lowest_unanswered();
      write.command = {static_cast<operation_kind>(c.op.op), c.op.key, c.op.value, c.op.expire_in, c.op.delete_in};
      replicated::encode_client_write(write, buffer_);
    }
    network_->send(to, caf::make_message(propose_command{config_.self, request, buffer_}));
  }
  // Refusals in a row also stretch the wait for an answer: a slow cluster is not flooded.
  const std::uint64_t wait = config_.attempt_timeout_ns << std::min(c.refusals, 3u);
  arm(wait, {id, request, client_timer_kind::attempt_overdue});
}

void client::refused(std::uint64_t id, call& c, std::uint64_t request, const attempt& sent, std::uint64_t leader,
                     const std::string& why) {
  // Only the latest attempt's refusal leads on: an older one's changes nothing.
  if (request != c.requests.back() || waiting_for_session(c)) return;
  if (!why.empty()) {
    // No leader for a while: asking again soon would fare no better. The
    // writes waiting for a session were never sent; a read changes nothing;
    // a write ends now only if no attempt of it may have been applied.
    c.unavailable = why;
    if (c.kind == purpose::open_session) {
      const std::deque<std::uint64_t> waiting = waiting_;
      for (std::uint64_t w : waiting) finish(w, error_code::unavailable, why);
      return;  // the last of them stopped the opening
    }
    if (c.kind == purpose::read || (!c.in_doubt && c.outstanding.empty()))
      return finish(id, error_code::unavailable, why);
  }
  leader_ = leader;  // 0 when the node knows none
  // Another leader named: ask it at once. (Home forwards to the leader it
  // knows, so a refusal naming another came from one that was busy or no
  // longer led: wait, as for any refusal.)
  if (leader != 0 && leader != sent.node && config_.home == 0) return send_attempt(id, c);
  ++c.refusals;
  const std::uint64_t ceiling =
      std::min(config_.max_backoff_ns, config_.min_backoff_ns << std::min(c.refusals - 1, 20u));
  const std::uint64_t delay = ceiling / 2 + random_.below(ceiling / 2 + 1);  // jitter: clients do not march in step
  arm(delay, {id, request, client_timer_kind::backoff_over});
}

client::call* client::find(std::uint64_t request, std::uint64_t& id, attempt& sent, bool& late) {
  const auto r = requests_.find(request);
  if (r == requests_.end()) return nullptr;
  sent = r->second;
  id = sent.call;
  const auto c = calls_.find(id);
  if (c == calls_.end()) return nullptr;
  // An answer to an attempt already given up on (overdue) still tells the
  // result; only a refusal of it has nothing to say any more.
  late = c->second.outstanding.erase(request) == 0;
  return &c->second;
}

void client::on_command_outcome(const command_outcome& o) {
  std::uint64_t id = 0;
  attempt sent;
  bool late = false;
  call* c = find(o.request, id, sent, late);
  if (!c || c->kind == purpose::read) return;  // a finished call's, or stray

  if (o.log_index == 0) {  // refused before it reached a log, or lost to another leader's entry
    if (o.code == code(error_code::invalid_operation))
      return finish(id, error_code::invalid_operation, "the write is too large for the log");
    if (o.code == code(error_code::timeout)) {
      // The node lost track of it (a snapshot covered its entry): in doubt,
      // as if the attempt were overdue, and asked again now.
      if (late) return;
      c->in_doubt = true;
      if (o.leader != 0) leader_ = o.leader;
      if (o.request == c->requests.back() && !waiting_for_session(*c)) send_attempt(id, *c);
      return;
    }
    if (!late) refused(id, *c, o.request, sent, o.leader, o.message);
    return;
  }
  if (o.leader != 0) leader_ = o.leader;
  if (c->kind == purpose::open_session) {
    if (o.status == static_cast<std::uint8_t>(apply_status::session_opened)) on_session(o.log_index);
    return;
  }
  switch (static_cast<apply_status>(o.status)) {
    case apply_status::applied:
    case apply_status::duplicate: {
      store_answer answer;
      answer.code = o.code;
      answer.message = o.message;
      answer.index = o.store_index;
      answer.found = o.deleted;
      return finish(id, std::move(answer));
    }
    case apply_status::unknown_session:
      // Evicted: nothing in that session applies from now on, but an earlier attempt may have.
      if (late || sent.session != c->session) return;  // an older session's news
      session_lost(c->session);
      if (c->in_doubt || !c->outstanding.empty())
        return finish(id, error_code::timeout, "the session was evicted; the write may have been applied");
      c->refusals = 0;  // certainly not applied: again, in the open session or a new one
      c->session = c->sequence = 0;
      if (session_ != 0) {
        number(*c);
        return send_attempt(id, *c);
      }
      waiting_.push_back(id);
      return open_session_if_needed();
    case apply_status::too_many_pending:
      if (!late) refused(id, *c, o.request, sent, o.leader, {});
      return;
    case apply_status::stale_sequence:
      if (late) return;
      return finish(id, error_code::timeout, "the session has moved past this write");
    default: return finish(id, error_code::internal_error, "the cluster could not decode the write");
  }
}

void client::on_read_outcome(const read_outcome& o) {
  std::uint64_t id = 0;
  attempt sent;
  bool late = false;
  call* c = find(o.request, id, sent, late);
  if (!c || c->kind != purpose::read) return;
  if (o.code == code(error_code::unavailable)) {
    if (!late) refused(id, *c, o.request, sent, o.leader, o.message);
    return;
  }
  if (o.leader != 0) leader_ = o.leader;
  store_answer answer;
  answer.code = o.code;
  answer.found = o.found;
  answer.value = o.value;
  answer.index = o.index;
  answer.info = o.info;
  finish(id, std::move(answer));
}

void client::on_timer(const client_timer& t) {
  const auto it = calls_.find(t.call);
  if (it == calls_.end()) return;
  call& c = it->second;
  switch (t.kind) {
    case client_timer_kind::deadline: {
      // Unavailable only if no attempt can ever be applied; reads change nothing, so either is true of them.
      const std::string why = c.unavailable.empty() ? "" : " (" + c.unavailable + ")";
      if (c.in_doubt || !c.outstanding.empty())
        return finish(t.call, error_code::timeout, "no answer in time; the operation may have been applied" + why);
      return finish(t.call, error_code::unavailable, "no leader could take the operation in time" + why);
    }
    case client_timer_kind::attempt_overdue:
      if (!c.outstanding.erase(t.request)) return;  // answered meanwhile
      c.in_doubt = true;
      if (const auto r = requests_.find(t.request); r != requests_.end() && r->second.node == leader_) leader_ = 0;
      if (t.request == c.requests.back() && !waiting_for_session(c)) send_attempt(t.call, c);
      return;
    case client_timer_kind::backoff_over:
      if (t.request == c.requests.back() && !waiting_for_session(c)) send_attempt(t.call, c);
      return;
  }
}

void client::finish(std::uint64_t id, error_code c, std::string message) { finish(id, failure(c, std::move(message))); }

void client::finish(std::uint64_t id, store_answer answer) {
  const auto it = calls_.find(id);
  if (it == calls_.end()) return;
  for (std::uint64_t request : it->second.requests) requests_.erase(request);
  if (it->second.promise.pending()) it->second.promise.deliver(std::move(answer));
  if (id == opening_) opening_ = 0;
  calls_.erase(it);
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), id), waiting_.end());
  // No write waits for the session any more: stop opening one.
  if (opening_ != 0 && waiting_.empty()) finish(opening_, store_answer{});
}

void client::arm(std::uint64_t local_ns, client_timer timer) {
  timers_.push({clock_->now_ns() + local_ns, timers_set_++, timer});
  set_alarm();
}

void client::wake_up(std::uint64_t due_ns) {
  alarms_.erase(due_ns);
  const std::uint64_t now = clock_->now_ns();
  waking_ = true;  // the timers set meanwhile wait for the one alarm set below
  while (!timers_.empty() && timers_.top().due_ns <= now) {
    const client_timer t = timers_.top().timer;
    timers_.pop();
    on_timer(t);
  }
  waking_ = false;
  set_alarm();
}

void client::set_alarm() {
  if (waking_) return;
  // Drop timers of finished calls from the top, so that they arm nothing.
  while (!timers_.empty() && !calls_.count(timers_.top().timer.call)) timers_.pop();
  if (timers_.empty()) return;
  const std::uint64_t due = timers_.top().due_ns;
  if (!alarms_.empty() && *alarms_.begin() <= due) return;  // an alarm rings by then
  alarms_.insert(due);
  const std::uint64_t now = clock_->now_ns();
  const std::uint64_t wait = due > now ? due - now : 1;
  delayed_send(this, std::chrono::nanoseconds(std::max<std::uint64_t>(1, clock_->scheduler_delay_ns(wait))),
               client_wakeup{due});
}

}  // namespace dkv::actors
