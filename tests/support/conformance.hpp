#pragma once
// The IStore conformance suite: every row of docs/spec.md as a named case that
// any implementation can be run through (lstore now; dstore and the network
// client reuse it unchanged). Cases assume a fresh store and one client.
//
//   TEST_CASE("my store conforms") {
//     dkv::test::store_maker maker{...};
//     dkv::test::run_conformance(maker);
//   }

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/istore.hpp"

namespace dkv::test {

struct store_maker {
  std::function<std::unique_ptr<istore>()> make;
  // Saves the store's state and brings it back as a new store (snapshot and
  // restore, or crash and restart). Cases that need it are skipped when unset.
  std::function<std::unique_ptr<istore>(istore&)> reopen;
};

struct conformance_case {
  std::string name;
  std::function<void(const store_maker&)> run;
};

const std::vector<conformance_case>& conformance_cases();

// Runs every case in its own Catch2 section with a fresh store.
void run_conformance(const store_maker& maker);

}  // namespace dkv::test
