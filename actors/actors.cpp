#include "actors/actors.hpp"

#include <caf/actor_clock.hpp>
#include <caf/uniform_type_info_map.hpp>

#include <algorithm>
#include <typeinfo>
#include <utility>

namespace dkv::actors {

namespace {

template <class T>
std::string str(const T& value) {
  return std::to_string(value);
}

error bad(std::string what) { return invalid_operation(std::move(what)); }

// "<field> (<value>) must be <rule>"
template <class T>
error out_of_range(std::string_view field, const T& value, std::string_view rule) {
  return bad(std::string(field) + " (" + str(value) + ") must be " + std::string(rule));
}

// The first type of dkv's block that `system` does not know, if any.
template <caf::type_id_t I = caf::id_block::dkv_actors::begin>
const char* first_missing_type(const caf::uniform_type_info_map& types) {
  if constexpr (I == caf::id_block::dkv_actors::end) {
    return nullptr;
  } else {
    using type = typename caf::type_by_id<I>::type;
    if (types.portable_name(0, &typeid(type)) == types.default_type_name()) return caf::type_name_by_id<I>::value;
    return first_missing_type<I + 1>(types);
  }
}

[[noreturn]] void fail(const std::string& what) { throw embed_error("dkv: " + what); }

void require_types(const caf::actor_system& system, const char* spawning) {
  if (error e = check_message_types(system); !e.ok())
    fail(std::string("cannot spawn ") + spawning + ": " + e.message());
}

}  // namespace

void add_message_types(caf::actor_system_config& cfg) { register_message_types(cfg); }

error check_message_types(const caf::actor_system& system) {
  if (const char* missing = first_missing_type(system.types()))
    return bad(std::string("the actor system does not know dkv's message types (") + missing +
               " is not registered): call dkv::actors::add_message_types(cfg) on its actor_system_config "
               "before building the system");
  return {};
}

error validate(const raft_node_config& c) {
  const raft::options& r = c.raft;
  if (r.id == raft::no_node) return bad("raft.id must name the node (0 is no node)");
  if (std::find(r.initial_voters.begin(), r.initial_voters.end(), raft::no_node) != r.initial_voters.end())
    return bad("raft.initial_voters must not contain 0 (no node)");
  if (r.heartbeat_ticks == 0) return out_of_range("raft.heartbeat_ticks", r.heartbeat_ticks, "at least 1");
  if (r.election_ticks <= r.heartbeat_ticks)
    return bad("raft.election_ticks (" + str(r.election_ticks) + ") must be greater than raft.heartbeat_ticks (" +
               str(r.heartbeat_ticks) + "): a follower would start elections between a leader's heartbeats");
  if (r.max_append_bytes == 0) return out_of_range("raft.max_append_bytes", r.max_append_bytes, "at least 1");
  if (r.max_inflight_messages == 0)
    return out_of_range("raft.max_inflight_messages", r.max_inflight_messages, "at least 1");
  if (r.max_inflight_bytes < r.max_append_bytes)
    return bad("raft.max_inflight_bytes (" + str(r.max_inflight_bytes) + ") must be at least raft.max_append_bytes (" +
               str(r.max_append_bytes) + ")");
  if (r.snapshot_chunk_bytes == 0)
    return out_of_range("raft.snapshot_chunk_bytes", r.snapshot_chunk_bytes, "at least 1");
  if (r.max_payload_bytes == 0) return out_of_range("raft.max_payload_bytes", r.max_payload_bytes, "at least 1");
  if (c.tick_ns == 0) return out_of_range("tick_ns", c.tick_ns, "at least 1 (the node's clock per Raft tick)");
  if (c.snapshot_every == 0) return out_of_range("snapshot_every", c.snapshot_every, "at least 1");
  if (c.max_pending == 0) return out_of_range("max_pending", c.max_pending, "at least 1");
  if (c.unavailable_after_ticks != 0 && c.unavailable_after_ticks < r.election_ticks)
    return bad("unavailable_after_ticks (" + str(c.unavailable_after_ticks) +
               ") must be 0 or at least raft.election_ticks (" + str(r.election_ticks) +
               "): a leader cannot be found sooner");
  if (c.wal.segment_bytes == 0) return out_of_range("wal.segment_bytes", c.wal.segment_bytes, "at least 1");
  if (c.wal.max_record_bytes <= r.max_payload_bytes)
    return bad("wal.max_record_bytes (" + str(c.wal.max_record_bytes) +
               ") must be greater than raft.max_payload_bytes (" + str(r.max_payload_bytes) +
               "): a proposal the replica accepts must fit in one log record");
  if (c.machine.limits.max_key_bytes == 0)
    return out_of_range("machine.limits.max_key_bytes", c.machine.limits.max_key_bytes, "at least 1");
  if (c.machine.sessions.max_sessions == 0)
    return out_of_range("machine.sessions.max_sessions", c.machine.sessions.max_sessions, "at least 1");
  if (c.machine.sessions.max_results_per_session == 0)
    return out_of_range("machine.sessions.max_results_per_session", c.machine.sessions.max_results_per_session,
                        "at least 1");
  return {};
}

error validate(const client_config& c) {
  if (c.nodes.empty()) return bad("nodes must name at least one node of the cluster");
  for (net_address n : c.nodes) {
    if (n == 0) return bad("nodes must not contain address 0");
    if (n == c.self) return bad("self (" + str(c.self) + ") must not be one of the nodes");
  }
  if (c.self == 0) return bad("self must be the client's own address (not 0), where nodes answer");
  if (c.home != 0 && std::find(c.nodes.begin(), c.nodes.end(), c.home) == c.nodes.end())
    return bad("home (" + str(c.home) + ") must be 0 or one of the nodes");
  if (c.limits.max_key_bytes == 0) return out_of_range("limits.max_key_bytes", c.limits.max_key_bytes, "at least 1");
  if (c.first_request == 0 || c.first_request > std::uint64_t{1} << 62)
    return out_of_range("first_request", c.first_request, "1 to 2^62 (room to count up)");
  if (c.attempt_timeout_ns == 0) return out_of_range("attempt_timeout_ns", c.attempt_timeout_ns, "at least 1");
  if (c.min_backoff_ns == 0) return out_of_range("min_backoff_ns", c.min_backoff_ns, "at least 1");
  if (c.max_backoff_ns < c.min_backoff_ns)
    return bad("max_backoff_ns (" + str(c.max_backoff_ns) + ") must be at least min_backoff_ns (" +
               str(c.min_backoff_ns) + ")");
  if (c.call_timeout_ns < c.attempt_timeout_ns)
    return bad("call_timeout_ns (" + str(c.call_timeout_ns) + ") must be at least attempt_timeout_ns (" +
               str(c.attempt_timeout_ns) + "): a call must have time for one attempt");
  if (c.max_calls == 0) return out_of_range("max_calls", c.max_calls, "at least 1");
  return {};
}

std::unique_ptr<posix_file_system> open_data_directory(const std::string& path) {
  const auto unusable = [&path](const std::string& why) { fail("data directory '" + path + "' is unusable: " + why); };
  if (path.empty()) unusable("the path is empty");
  std::unique_ptr<posix_file_system> files;
  if (error e = posix_file_system::open_directory(path, files); !e.ok()) unusable(e.message());
  std::vector<std::string> names;
  if (error e = files->list(names); !e.ok()) unusable(e.message());
  // A node writes its log here before it may answer anyone: find out now.
  const std::string probe = ".dkv-probe";
  std::unique_ptr<storage::file> f;
  if (error e = files->open(probe, storage::open_mode::create, f); !e.ok()) unusable(e.message());
  error e = f->append("probe");
  if (e.ok()) e = f->sync();
  f.reset();
  if (error removed = files->remove(probe); e.ok()) e = removed;
  if (!e.ok()) unusable(e.message());
  return files;
}

std::uint64_t actor_system_clock::now_ns() const {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(system_->clock().now().time_since_epoch()).count());
}

caf::actor spawn_raft_node(caf::actor_system& system, const raft_node_config& config, const node_seams& seams,
                           std::uint64_t seed, raft_node_status* status) {
  require_types(system, "a raft_node");
  if (error e = validate(config); !e.ok()) fail("raft_node_config: " + e.message());
  if (!seams.files) fail("cannot spawn a raft_node without a file system (node_seams::files)");
  if (!seams.network) fail("cannot spawn a raft_node without a transport (node_seams::network)");
  if (!seams.clock) fail("cannot spawn a raft_node without a clock (node_seams::clock)");
  return system.spawn<raft_node>(config, seams.files, seams.network, seams.clock, seed, status);
}

caf::actor spawn_client(caf::actor_system& system, const client_config& config, std::shared_ptr<transport> network,
                        std::shared_ptr<local_clock> clock, std::uint64_t seed) {
  require_types(system, "a client");
  if (error e = validate(config); !e.ok()) fail("client_config: " + e.message());
  if (!network) fail("cannot spawn a client without a transport");
  if (!clock) fail("cannot spawn a client without a clock");
  return system.spawn<client>(config, std::move(network), std::move(clock), seed);
}

}  // namespace dkv::actors
