#pragma once
// The workload's world in a real run (sim/run/workload.hpp): the run loop's
// clock and timers, and calls sent through the network client to any member
// of the cluster, dKV's protocol in between.

#include <cstdint>
#include <memory>

#include "net/client/remote_client.hpp"
#include "real/run/run_loop.hpp"
#include "sim/run/workload.hpp"

namespace dkv::real {

// A store call as a protocol request, and a response as the call's answer.
net::message request_of(const actors::store_call& call);
actors::store_answer answer_of(const net::message& response);

class network_world final : public sim::workload_world {
 public:
  network_world(run_loop& loop, std::shared_ptr<net::remote_client> client, std::uint64_t shard)
      : loop_(loop), client_(std::move(client)), shard_(shard) {}

  std::uint64_t now_ns() const override { return loop_.now_ns(); }
  void at(std::uint64_t t_ns, std::string, std::function<void()> action) override { loop_.at(t_ns, std::move(action)); }
  void submit(std::size_t client, actors::store_call call, answer_callback done) override;
  // Blocks (running the loop) until `call` is answered.
  actors::store_answer call(const actors::store_call& call);

 private:
  run_loop& loop_;
  std::shared_ptr<net::remote_client> client_;
  std::uint64_t shard_;
};

}  // namespace dkv::real
