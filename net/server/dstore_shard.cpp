#include "net/server/dstore_shard.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <random>
#include <unordered_map>

#include "actors/client/dstore.hpp"
#include "net/peer/cluster_identity.hpp"
#include "net/server/lock_requests.hpp"
#include "net/server/store_requests.hpp"
#include "store/lock_manager.hpp"
#include "store/raft/replica.hpp"

namespace dkv::net {

namespace {

// The answer when a call's outcome is lost with the client actor (the
// server is stopping): a write handed over may have been applied (Timeout);
// a read changes nothing (Unavailable).
actors::store_answer lost_answer(bool write, std::string why = "the server stopped before the outcome was known") {
  actors::store_answer a;
  a.code = static_cast<std::uint8_t>(write ? error_code::timeout : error_code::unavailable);
  a.message = std::move(why);
  return a;
}

bool is_write_request(message_type t) {
  switch (t) {
    case message_type::get:
    case message_type::has:
    case message_type::db_info: return false;
    default: return true;
  }
}

bool is_lock_operation(message_type t) { return t == message_type::lock_acquire || t == message_type::lock_release; }

// A Timeout or Unavailable is the cluster's state, not the request's: it
// says which shard (a server serves several).
void name_shard(std::uint64_t shard, actors::store_answer& a) {
  if (a.code == static_cast<std::uint8_t>(error_code::timeout) ||
      a.code == static_cast<std::uint8_t>(error_code::unavailable))
    a.message = "shard " + std::to_string(shard) + ": " + a.message;
}

std::string member_name(const dstore_shard::options& o, std::uint64_t member) {
  return member >= 1 && member <= o.member_names.size() ? o.member_names[member - 1] : std::string("none");
}

message status_response(const nlohmann::ordered_json& doc) {
  message response;
  response.type = message_type::status;
  response.value = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

message status_of(const dstore_shard::options& o, const actors::replica_health& h) {
  nlohmann::ordered_json doc = {{"kind", "dstore"},
                                {"member", member_name(o, o.replica)},
                                {"role", std::string(raft::role_name(static_cast<raft::role>(h.role)))},
                                {"term", h.term},
                                {"leader", member_name(o, h.leader)},
                                {"commit", h.commit},
                                {"applied", h.applied},
                                {"repairing", h.repairing},
                                {"storage_problem", h.storage_problem},
                                {"unavailable", h.unavailable},
                                {"stopped", false}};
  if (h.digested) {
    doc["engine_digest"] = id_text(h.engine_digest);
    doc["sessions_digest"] = id_text(h.sessions_digest);
  }
  return status_response(doc);
}

message stopped_status(const dstore_shard::options& o, const std::string& why) {
  return status_response(
      {{"kind", "dstore"}, {"member", member_name(o, o.replica)}, {"stopped", true}, {"stop_reason", why}});
}

}  // namespace

// Replies waiting for the client actor's answer, under the token the
// gateway's request carries.
struct dstore_shard::parked_replies {
  struct parked {
    message_type type;
    std::function<void(message)> reply;
  };
  std::mutex mutex;
  std::uint64_t next_token = 1;
  std::unordered_map<std::uint64_t, parked> by_token;

  std::uint64_t park(message_type type, std::function<void(message)> reply) {
    std::lock_guard<std::mutex> guard(mutex);
    const std::uint64_t token = next_token++;
    by_token.emplace(token, parked{type, std::move(reply)});
    return token;
  }
  // The reply parked under `token`, taken out (none if already answered).
  std::optional<parked> take(std::uint64_t token) {
    std::lock_guard<std::mutex> guard(mutex);
    const auto it = by_token.find(token);
    if (it == by_token.end()) return std::nullopt;
    parked p = std::move(it->second);
    by_token.erase(it);
    return p;
  }
  void reply(std::uint64_t token, message response) {
    if (std::optional<parked> p = take(token)) p->reply(std::move(response));
  }
  void answer(std::uint64_t token, const actors::store_answer& answer) {
    if (std::optional<parked> p = take(token)) p->reply(to_response(p->type, answer));
  }
  void answer_lost(std::uint64_t token) {
    if (std::optional<parked> p = take(token)) p->reply(to_response(p->type, lost_answer(is_write_request(p->type))));
  }
  void answer_all_lost(const std::string& why) {
    std::unordered_map<std::uint64_t, parked> left;
    {
      std::lock_guard<std::mutex> guard(mutex);
      left.swap(by_token);
    }
    for (auto& [token, p] : left) p.reply(to_response(p.type, lost_answer(is_write_request(p.type), why)));
  }
};

dstore_shard::dstore_shard(caf::actor_system& system, options o)
    : system_(system), options_(std::move(o)), parked_(std::make_shared<parked_replies>()) {
  // The gateway asks the client actor for each parked call and answers it
  // when the client does; a db info (a token alone) it asks of the replica.
  // (Its state travels as spawn arguments: CAF 0.17 binds a reference to a
  // null tuple for a function actor spawned without any, which UBSan stops.)
  gateway_ = system_.spawn(
      [](caf::event_based_actor* self, options o, std::shared_ptr<parked_replies> parked) -> caf::behavior {
        return {
            [self, o, parked](std::uint64_t token, actors::store_call& call) {
              self->request(o.client, caf::infinite, std::move(call))
                  .then(
                      [o, parked, token](actors::store_answer& answer) {
                        name_shard(o.id, answer);
                        parked->answer(token, answer);
                      },
                      [parked, token](caf::error&) { parked->answer_lost(token); });
            },
            [self, o, parked](std::uint64_t token, actors::health_query query) {
              self->request(o.replica_actor, o.timeout, query)
                  .then([o, parked, token](actors::replica_health& h) { parked->reply(token, status_of(o, h)); },
                        [o, parked, token](caf::error& e) {
                          parked->reply(token,
                                        stopped_status(o, "its replica does not answer (" + caf::to_string(e) + ")"));
                        });
            },
            [self, o](std::uint64_t token) {
              actors::read_command read;
              read.client = o.gateway_address;
              read.request = token;
              read.kind = static_cast<std::uint8_t>(actors::read_kind::info);
              o.network->send(o.replica, caf::make_message(std::move(read)));
              self->delayed_send(self, o.timeout, token, true);
            },
            [o, parked](std::uint64_t token, bool) {  // the replica did not answer in time: maybe never asked
              actors::store_answer late;
              late.code = static_cast<std::uint8_t>(error_code::timeout);
              late.message = "no answer from the replica in time";
              name_shard(o.id, late);
              parked->answer(token, late);
            },
            [o, parked](actors::read_outcome& read) {
              actors::store_answer answer;
              answer.code = read.code;
              if (read.code != 0) answer.message = read.message.empty() ? "no leader to read from" : read.message;
              answer.index = read.index;
              answer.info = std::move(read.info);
              answer.info.metadata["raft_leader"] = member_name(o, read.leader);
              answer.info.metadata["raft_member"] = member_name(o, o.replica);
              name_shard(o.id, answer);
              parked->answer(read.request, answer);
            },
        };
      },
      options_, parked_);
  for (unsigned i = 0; i < options_.lock_threads; ++i) lock_threads_.emplace_back([this] { run_locks(); });
}

dstore_shard::~dstore_shard() {
  {
    std::lock_guard<std::mutex> guard(lock_mutex_);
    stopping_ = true;
  }
  lock_ready_.notify_all();
  for (std::thread& t : lock_threads_) t.join();
  caf::anon_send_exit(gateway_, caf::exit_reason::user_shutdown);
  parked_->answer_all_lost("the server stopped before the outcome was known");
}

void dstore_shard::replica_stopped(std::string why) {
  {
    std::lock_guard<std::mutex> guard(stopped_mutex_);
    stopped_ = why;
  }
  replica_stopped_.store(true, std::memory_order_release);
  // What is in flight will not be answered by it: say why now, before the
  // server closes the connections (a write may have been applied: Timeout).
  parked_->answer_all_lost("shard " + std::to_string(options_.id) + ": this replica stopped (" + why +
                           ") before the outcome was known");
}

void dstore_shard::handle(message request, std::function<void(message)> reply) {
  if (replica_stopped_.load(std::memory_order_acquire)) {
    std::string stopped;
    {
      std::lock_guard<std::mutex> guard(stopped_mutex_);
      stopped = stopped_;
    }
    if (request.type == message_type::status) return reply(stopped_status(options_, stopped));
    // Not handed to anyone: certainly never applied.
    actors::store_answer refused;
    refused.code = static_cast<std::uint8_t>(error_code::unavailable);
    refused.message = "this replica stopped (" + stopped + "); the server is stopping";
    name_shard(options_.id, refused);
    return reply(to_response(request.type, refused));
  }
  if (request.type == message_type::status) {
    if (!options_.replica_actor) return reply(stopped_status(options_, "no replica"));
    // key "digests": the engine's and the session table's digests too (a read of the whole store).
    return caf::anon_send(gateway_, parked_->park(request.type, std::move(reply)),
                          actors::health_query{request.key == "digests"});
  }
  if (is_lock_operation(request.type)) {
    if (lock_threads_.empty())
      return reply(invalid_request_response("shard serves no lock operations (it is not a lockmgr shard)"));
    std::lock_guard<std::mutex> guard(lock_mutex_);
    lock_jobs_.emplace_back([this, request = std::move(request), reply = std::move(reply)]() mutable {
      // One blocking round trip after another through a scoped actor of this thread.
      caf::scoped_actor self{system_};
      actors::dstore store(
          [&](actors::store_call call) {
            actors::store_answer out = lost_answer(is_write(static_cast<operation_kind>(call.op)));
            self->request(options_.client, caf::infinite, std::move(call))
                .receive([&](actors::store_answer& answer) { out = std::move(answer); }, [](caf::error&) {});
            name_shard(options_.id, out);
            return out;
          },
          options_.limits);
      thread_local std::mt19937_64 random{std::random_device{}()};
      lock_manager locks(store, [] { return random(); });
      reply(serve_lock_request(locks, request));
    });
    lock_ready_.notify_one();
    return;
  }
  actors::store_call call;
  std::string why;
  if (!to_store_call(request, call, why)) return reply(invalid_request_response(std::move(why)));
  const std::uint64_t token = parked_->park(request.type, std::move(reply));
  if (call.op == static_cast<std::uint8_t>(operation_kind::info) && options_.network)
    caf::anon_send(gateway_, token);
  else
    caf::anon_send(gateway_, token, std::move(call));
}

void dstore_shard::run_locks() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(lock_mutex_);
      lock_ready_.wait(lock, [this] { return stopping_ || !lock_jobs_.empty(); });
      if (lock_jobs_.empty()) return;  // stopping, nothing left
      job = std::move(lock_jobs_.front());
      lock_jobs_.pop_front();
    }
    job();
  }
}

}  // namespace dkv::net
