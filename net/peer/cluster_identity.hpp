#pragma once
// Which cluster a process belongs to, as etcd has its cluster ID: a hash of
// the ordered member list (names and peer addresses, as given in
// --cluster-members) and an operator-chosen token (--cluster-token). A
// member's number is its place in the list, and Raft ids and addresses are
// member numbers, so two processes given different lists — another order,
// a member more or less, another address — would read each other's
// messages as coming from the wrong members. The peers exchange the id in
// their hello (wire.hpp) and refuse a connection from another cluster; the
// token tells apart two clusters given the same list by mistake (a test
// cluster started with the production list).

#include <cstdint>
#include <string>
#include <string_view>

namespace dkv::net {

struct cluster_identity {
  std::uint64_t id = 0;
  std::string members;  // the list as text, "node-1=127.0.0.1:7001,node-2=…": only to explain a refusal
};

// The identity of `members` (the list in its canonical text, one
// NAME=HOST:PORT per member, comma-separated) with `token`: XXH3-64 over a
// length-prefixed encoding of both, so that no list and token hash as
// another list and token do by moving a comma.
cluster_identity make_cluster_identity(std::string members, std::string_view token);

// 16 hex digits, as dkv serve prints the id.
std::string id_text(std::uint64_t id);

// The member numbered `k` (1-based) of a members text, "node-2=127.0.0.1:7002",
// or "" if it has fewer.
std::string member_entry(std::string_view members, std::uint64_t k);

// Whether `members` (a members text) has `entry` ("node-2=127.0.0.1:7002")
// as one of its items; false for an empty entry.
bool lists_entry(std::string_view members, std::string_view entry);

// How another process's identity differs from ours, for the logs of both
// sides: "it belongs to another cluster: its members are '…', ours are
// '…' (cluster id …, ours …); every member must be given …".
std::string other_cluster(std::uint64_t their_id, std::string_view their_members, const cluster_identity& ours);

}  // namespace dkv::net
