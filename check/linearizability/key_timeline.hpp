#pragma once
// One key's ok operations and placed info writes in index order, with the
// key's state before each: lets the gap assignment test an extra info write
// at a gap by replaying only until the key's state is what it was anyway.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/dkv_model.hpp"
#include "check/linearizability/dkv_view.hpp"
#include "check/linearizability/key_search.hpp"

namespace dkv::check {

class key_timeline {
 public:
  struct step {
    std::uint64_t index;
    bool read;
    std::size_t id;
  };

  // The key's ok operations and its info writes placed at `placed`.
  void build(const history& h, const dkv_view& c, std::size_t key, const placements& placed, const gap_table& gaps);

  // Adds info write `id`, placed at gap index `at` (which `accepts` it):
  // the states before later steps change only until the key is back on its
  // recorded track.
  void add(const dkv_view& c, std::size_t id, std::uint64_t at);

  // Whether every read and DeleteIfValue outcome still holds with `extra` applied at `at`.
  bool accepts(const dkv_view& c, const dkv_op& extra, std::uint64_t at) const;

  // A full replay: every read and DeleteIfValue outcome as recorded?
  bool consistent(const dkv_view& c) const;

  const std::vector<step>& steps() const noexcept { return steps_; }

 private:
  std::size_t first_at_or_after(std::uint64_t index) const;

  std::vector<step> steps_;
  std::vector<dkv_entry> before_;  // the state before steps_[i]; one more at the end
};

}  // namespace dkv::check
