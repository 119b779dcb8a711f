#pragma once
// One key of a dkv history — or a few keys searched together — checked
// against its index witness: the keys' ok operations in index order (writes
// before reads at one index), and the search for where their info writes
// took effect. An info write can only have taken a free index gap, and only
// one it was invoked early enough for; one that took no gap of these keys
// simply did not act here. So the search walks the operations and, at each
// gap in between, either leaves it or puts there an unused info write that
// changes its key — depth first, leaving gaps before filling them, with
// failed configurations remembered.
//
// Keys searched alone may each want the same few gaps; the caller then
// searches them as one group, where one gap serves at most one of them.

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "check/linearizability/dkv_model.hpp"
#include "check/linearizability/verdict.hpp"

namespace dkv::check {

// Index gaps: indexes below the highest one that no ok write holds, each with
// the latest time an info write may be invoked and still take it (the
// earliest return of an ok operation that comes after it in index order).
struct gap_table {
  std::vector<std::uint64_t> index;     // ascending
  std::vector<std::uint64_t> deadline;  // non-decreasing along `index`
  std::vector<bool> taken;              // by another key already
};

// Where info writes took effect: (gap position, history id).
using placements = std::vector<std::pair<std::size_t, std::size_t>>;

struct key_step {
  std::size_t id;  // in the history
  dkv_op op;
  std::uint64_t index;  // ok operations: the witness
};

struct key_info_write {
  std::size_t id;
  dkv_op op;
  std::uint64_t call_ns;
};

struct key_search_result {
  partition_result result;
  placements placed;  // when linearizable
  // For a placed write without expiry or deletion: the index after which it
  // could equally have acted (its key's operations in between still hold).
  std::map<std::size_t, std::uint64_t> may_act_after;
};

// `steps` of one key or a group of keys, in index order; `infos`, the same
// keys' info writes, by call time.
key_search_result search_key(const std::vector<key_step>& steps, const std::vector<key_info_write>& infos,
                             const gap_table& gaps, const check_budget& budget);

}  // namespace dkv::check
