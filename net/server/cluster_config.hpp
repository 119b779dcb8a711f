#pragma once
// What `dkv serve` is told about its cluster, in dKV's flag syntax:
//
//   --shards "100=lstore,200=dstore,300=lockmgr(dstore)"   (ID:KIND is read too)
//   --cluster-members "node-1=127.0.0.1:7001,node-2=127.0.0.1:7002,node-3=127.0.0.1:7003"
//   --replica-id node-2
//
// A member's place in --cluster-members is its number (1-based): the Raft
// id of its replica in every dstore shard. Every member must be given the
// same list in the same order. Cluster-member addresses carry the Raft
// traffic between servers; clients use --transport-endpoint. Names and
// addresses must be distinct, and every host must resolve: a server refuses
// to start otherwise (dkv serve: exit 2).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/error.hpp"

namespace dkv::net {

enum class shard_kind : std::uint8_t {
  lstore,  // a local store in this process, not replicated
  dstore,  // a Raft group across the cluster's members
};

struct shard_spec {
  std::uint64_t id = 0;
  shard_kind kind = shard_kind::lstore;
  bool lock_manager = false;  // lockmgr(KIND): serves the lock operations over a store of KIND
  std::string text() const;   // as written: "300=lockmgr(dstore)"
};

struct member_spec {
  std::string name;  // "node-1"
  std::string host;
  std::uint16_t port = 0;
};

// Parsers: an error names the offending item and says what was expected.
error parse_shards(std::string_view text, std::vector<shard_spec>& out);
error parse_members(std::string_view text, std::vector<member_spec>& out);
// Splits "host:port" (the port 0..65535; "[::1]:7001" for IPv6).
error parse_host_port(std::string_view text, std::string& host, std::uint16_t& port);

// The members as one canonical text, "node-1=127.0.0.1:7001,node-2=[::1]:7002":
// what the cluster's identity is computed from (net/peer/cluster_identity.hpp).
std::string members_text(const std::vector<member_spec>& members);

// The 1-based number of `replica_id` among `members`, or an error.
error member_number(const std::vector<member_spec>& members, std::string_view replica_id, std::uint64_t& out);

// Resolves every member's host (the system's resolver: it may wait on DNS)
// and refuses a host that does not resolve and two members at one address
// ("localhost:7001" and "127.0.0.1:7001"). Either would start a server that
// never reaches a quorum and never says why: a peer link retries an address
// that does not exist, or a member sends its Raft traffic to itself.
error check_member_addresses(const std::vector<member_spec>& members);

}  // namespace dkv::net
