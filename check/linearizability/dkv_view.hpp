#pragma once
// A history seen through the dkv model: each operation that may have taken
// effect as a dkv_op on a dense key id, and the keys with their operations.
// What every phase of the dkv check works on.

#include <cstddef>
#include <string>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/dkv_model.hpp"

namespace dkv::check {

struct dkv_view {
  std::vector<std::string> keys;                     // sorted; a key's id is its position
  std::vector<std::vector<std::size_t>> ops_by_key;  // history ids (not fail), call order
  std::vector<dkv_op> ops;                           // by history id (fail ones left empty)
  bool all_indexed = true;                           // every ok result carries its index
};

dkv_view make_dkv_view(const history& h);

// "#12 set(k3) by process 4 at index 17", for explanations.
std::string describe(const history& h, std::size_t id);

}  // namespace dkv::check
