#pragma once
// The cluster a data directory belongs to, kept in it (CLUSTER) from its
// first start: the cluster id (net/peer/cluster_identity.hpp) and the member
// list it was computed from. A replica's member numbers are places in that
// list, so a server started on the directory with another list — another
// order, a member more or less, another address, another --cluster-token —
// would send to the wrong addresses and read peers' numbers as other
// members; its peers refuse it too, but a member restarted with a list
// naming only itself has no peer to refuse it, and sat unavailable saying
// nothing. So the server refuses to start, naming both lists.
// A directory from a dkv that kept no record is adopted (the record is
// written). To move a whole cluster to new addresses, stop every member,
// remove CLUSTER from each data directory, and start them all with the new
// list.
//
// File (text, rewritten whole): "dkv cluster <16 hex digits>\nmembers <list>\n"

#include <string>

#include "net/peer/cluster_identity.hpp"
#include "store/error.hpp"

namespace dkv::net {

inline constexpr const char* cluster_record_name = "CLUSTER";

// Checks `data_dir`'s record against `ours`, writing it (durably) when there
// is none. `adopted` says whether it was written. An invalid_operation names
// a mismatch or a record that cannot be read; an internal_error, a failed
// write.
error check_cluster_record(const std::string& data_dir, const cluster_identity& ours, bool& adopted);

}  // namespace dkv::net
