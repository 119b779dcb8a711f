#include <catch2/catch.hpp>

#include "store/raft/membership.hpp"
#include "store/raft/raft_log.hpp"

using namespace dkv::raft;

namespace {
raft_log log_of_terms(std::initializer_list<term_t> terms) {
  raft_log log;
  for (term_t t : terms) log.append({t, log.last_index() + 1, entry_kind::command, {}});
  return log;
}
}  // namespace

TEST_CASE("raft_log: terms, slices and truncation") {
  raft_log log = log_of_terms({1, 1, 2, 2, 2, 3});
  CHECK(log.last_index() == 6);
  CHECK(log.last_term() == 3);
  CHECK(log.term_at(0) == 0u);
  CHECK(log.term_at(4) == 2u);
  CHECK_FALSE(log.term_at(7));
  CHECK(log.slice(2, 5).size() == 3);
  CHECK(log.first_index_of_term_run(5) == 3);
  CHECK(log.last_index_with_term_at_most(2, 6) == 5);
  CHECK(log.last_index_with_term_at_most(0, 6) == 0);
  log.truncate_from(4);
  CHECK(log.last_index() == 3);
}

TEST_CASE("raft_log: compaction keeps the snapshot's term, restore keeps an agreeing tail") {
  raft_log log = log_of_terms({1, 1, 2, 2, 3});
  log.compact(3);
  CHECK(log.first_index() == 4);
  CHECK(log.term_at(3) == 2u);
  CHECK_FALSE(log.term_at(2));
  CHECK(log.restore(4, 2));  // agrees: entry 5 stays
  CHECK(log.last_index() == 5);
  CHECK_FALSE(log.restore(9, 4));  // disagrees: everything goes
  CHECK(log.last_index() == 9);
  CHECK(log.first_index() == 10);
}

TEST_CASE("slices stop at the byte limit but always hold one entry") {
  raft_log log;
  for (int i = 0; i < 4; ++i) log.append({1, log.last_index() + 1, entry_kind::command, payload::copy_of("12345")});
  CHECK(log.slice(1, 5, 12).size() == 2);
  CHECK(log.slice(1, 5, 1).size() == 1);
}

TEST_CASE("membership: round trip, changes and malformed bytes") {
  const membership m{{1, 2, 3}, {5}};
  CHECK(decode_membership(encode_membership(m)) == m);
  CHECK_FALSE(decode_membership("garbage"));
  CHECK_FALSE(decode_membership(encode_membership(membership{{2, 1}, {}})));  // unsorted
  CHECK_FALSE(decode_membership(encode_membership(membership{{1}, {1}})));    // both
  CHECK(apply_change(m, change_kind::add_server, 4)->is_learner(4));
  CHECK_FALSE(apply_change(m, change_kind::add_server, 5));
  CHECK_FALSE(apply_change(m, change_kind::remove, 9));
  CHECK_FALSE(apply_change(membership{{1}, {}}, change_kind::remove, 1));
  CHECK(promote(m, 5).is_voter(5));
  CHECK(m.quorum() == 2);
}
