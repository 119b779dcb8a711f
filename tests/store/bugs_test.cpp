// The injected-bug catalogue: every bug has a unique kebab-case name that
// find() knows, and scoped_bugs switches exactly its set on, then restores.

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "store/bugs.hpp"

using namespace dkv;

TEST_CASE("the bug catalogue names every bug once, in enum order", "[bugs]") {
  const auto all = bugs::catalogue();
  REQUIRE(all.size() == static_cast<std::size_t>(bugs::bug::count_));
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const bugs::bug_info& b = all[i];
    INFO(b.name);
    CHECK(static_cast<std::size_t>(b.id) == i);
    CHECK(&bugs::info(b.id) == &b);
    CHECK(seen.insert(b.name).second);
    CHECK_FALSE(b.summary.empty());
    CHECK(b.site.find(".cpp: ") != std::string_view::npos);
    for (char c : b.name) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'));
    const auto found = bugs::find(b.name);
    REQUIRE(found.has_value());
    CHECK(*found == b.id);
    CHECK(bugs::names(bugs::bit(b.id)) == std::vector<std::string_view>{b.name});
  }
  CHECK(bugs::find("figure8-commit") == bugs::bug::figure8_commit);
  CHECK(bugs::find("no-prevote-checkquorum") == bugs::bug::no_prevote_checkquorum);
  CHECK_FALSE(bugs::find("no-such-bug").has_value());
  CHECK_FALSE(bugs::find("").has_value());
  CHECK_FALSE(bugs::find("figure8_commit").has_value());  // the enum's spelling is not a name
  CHECK(bugs::names(0).empty());
  const bugs::bug_set two = bugs::bit(bugs::bug::raw_index_clock) | bugs::bit(bugs::bug::follower_local_reads);
  CHECK(bugs::names(two) == std::vector<std::string_view>{"follower-local-reads", "raw-index-clock"});
}

TEST_CASE("scoped_bugs switches exactly its set on and restores what was before", "[bugs]") {
  REQUIRE(bugs::active() == 0);
  for (const bugs::bug_info& b : bugs::catalogue()) CHECK_FALSE(bugs::on(b.id));
  {
    bugs::scoped_bugs outer(bugs::bit(bugs::bug::figure8_commit));
    CHECK(bugs::on(bugs::bug::figure8_commit));
    CHECK_FALSE(bugs::on(bugs::bug::wal_accepts_torn));
    {
      bugs::scoped_bugs inner(bugs::bit(bugs::bug::wal_accepts_torn));
      CHECK(bugs::on(bugs::bug::wal_accepts_torn));
      CHECK_FALSE(bugs::on(bugs::bug::figure8_commit));  // exactly the set, not added to the outer one
    }
    CHECK(bugs::active() == bugs::bit(bugs::bug::figure8_commit));
  }
  CHECK(bugs::active() == 0);
}
