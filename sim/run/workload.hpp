#pragma once
// A random workload on a simulated cluster: a few clients, each one process
// with at most one operation in flight (docs/history.md), issuing every IStore
// operation — SetE, Expire and lock acquire / release included — over a
// small set of keys, so that operations collide. Values are unique per
// operation, which lets the checks tell writes apart. Every call and its
// outcome goes to the history recorder; after an indeterminate outcome the
// client goes on under a fresh process id, as in Jepsen.
//
// A workload can also be a script: every client issues its listed calls in
// order, each at its time or when the one before is answered, whichever is
// later. A random workload records what it issued as such a script; replayed
// in the same run it issues the same calls at the same times (the shrinker
// starts from there and drops calls).
//
// What it runs on is a `workload_world`: the simulator's (virtual time,
// sim_clients) or a real run's (the wall clock, network clients: real/).
// The draws come from the same generator in the same order in both, so a
// seed issues the same calls; only the answers' timing differs.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/cluster/sim_client.hpp"
#include "sim/run/history_recorder.hpp"
#include "store/rng.hpp"

namespace dkv::sim {

// The operations a random client draws, by weight; `lock` is a lock
// acquire (SetEIfUnset, then Get) or, while one is held, its release.
struct operation_mix {
  unsigned get = 25;
  unsigned has = 6;
  unsigned set = 16;
  unsigned set_e = 10;
  unsigned set_e_if_unset = 6;
  unsigned expire = 5;
  unsigned remove = 5;
  unsigned remove_if_value = 7;
  unsigned lock = 12;  // out of 100: drawn before the others
};

// One call of a scripted workload.
struct scripted_call {
  std::uint32_t client = 0;  // 0-based
  std::uint64_t at_ns = 0;
  actors::store_call call;
};

struct workload_options {
  std::size_t clients = 4;
  std::size_t keys = 5;
  double key_skew = 0;  // 0: keys equally likely; towards 1: ever more on the first keys
  std::size_t locks = 2;
  std::uint64_t max_think_ns = 50'000'000;  // a client's pause between operations (0: back to back)
  std::uint64_t stop_ns = 60'000'000'000;   // no operation starts after this
  std::uint64_t max_schedule = 12;          // SetE's expireIn / deleteIn and lock timeouts, in writes
  std::size_t min_value_bytes = 0;          // values are padded to a size drawn from [min, max]
  std::size_t max_value_bytes = 0;          // (0: the bare unique tag, a few bytes)
  operation_mix mix;
  bool scripted = false;  // the clients play `script` instead of drawing
  std::vector<scripted_call> script;
  bool record_script = false;  // keep what was issued (script())
  actors::client_config client;
};

// The clock, the timers and the clients a workload runs on. Every call of
// the workload's, and every action and answer callback it is given, happens
// on one thread, one at a time.
class workload_world {
 public:
  using answer_callback = std::function<void(const actors::store_answer&)>;
  virtual ~workload_world() = default;
  virtual std::uint64_t now_ns() const = 0;
  // Runs `action` at `t_ns` (`what` names it in a trace).
  virtual void at(std::uint64_t t_ns, std::string what, std::function<void()> action) = 0;
  // Sends client `client`'s call (0-based; one in flight per client); `done` gets the answer once.
  virtual void submit(std::size_t client, actors::store_call call, answer_callback done) = 0;
};

// The simulator's world: the cluster's virtual clock, one sim_client per client.
class simulated_clients final : public workload_world {
 public:
  simulated_clients(sim_cluster& cluster, std::size_t clients, const actors::client_config& config);
  ~simulated_clients() override;
  std::uint64_t now_ns() const override;
  void at(std::uint64_t t_ns, std::string what, std::function<void()> action) override;
  void submit(std::size_t client, actors::store_call call, answer_callback done) override;

 private:
  sim_cluster& cluster_;
  std::vector<std::unique_ptr<sim_client>> clients_;
};

class workload {
 public:
  // `history` may be null (nothing recorded: a benchmark).
  workload(workload_world& world, history_recorder* history, dkv::rng random, workload_options options);
  // On the simulated cluster, with clients of its own.
  workload(sim_cluster& cluster, history_recorder* history, dkv::rng random, workload_options options);
  ~workload();

  void start();
  std::uint64_t issued() const noexcept { return issued_; }
  std::uint64_t answered() const noexcept { return answered_; }
  // With record_script: every call issued, in issue order.
  const std::vector<scripted_call>& script() const noexcept { return issued_calls_; }

 private:
  struct lock_state {
    enum class step : std::uint8_t { free, check_acquired, held } now = step::free;
    std::string key;
    std::string owner;
  };
  struct client_process {
    std::uint32_t process = 0;
    std::uint64_t operations = 0;
    lock_state lock;
    std::size_t next_scripted = 0;  // script mode: index into `scripted`
    std::vector<const scripted_call*> scripted;
  };

  void make_processes();
  void next(std::size_t index);
  void issue(std::size_t index);
  // The next call of this client and the history operation that records it.
  void choose(client_process& p, std::size_t index, actors::store_call& call, operation& op);
  void answered(std::size_t index, std::size_t history_id, const operation& op, const actors::store_answer& answer);
  void draw(client_process& p, std::size_t index, actors::store_call& call);
  std::size_t draw_key();
  std::string padded(std::string tag) const;

  std::unique_ptr<workload_world> owned_world_;  // the simulated clients, when the workload made them
  workload_world& world_;
  history_recorder* history_;
  dkv::rng random_;
  workload_options options_;
  std::vector<client_process> processes_;
  std::uint32_t next_process_ = 1;
  std::uint64_t issued_ = 0;
  std::uint64_t answered_ = 0;
  std::vector<scripted_call> issued_calls_;
};

// docs/spec.md's error code as a history outcome: ok, fail (certainly not applied), info (unknown).
outcome outcome_of(std::uint8_t code) noexcept;
// How the client's answer to `op` goes into the history.
op_result result_of(const operation& op, const actors::store_answer& answer);

}  // namespace dkv::sim
