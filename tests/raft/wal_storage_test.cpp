// The WAL-backed replica storage against memory_storage as the model: the
// same readies and snapshots, compared after reopening; crashed at every
// write boundary (the recovered state is one the model passed through since
// the last acknowledged write); and damaged bytes detected, never applied.

#include <catch2/catch.hpp>

#include "sim/disk/sim_disk.hpp"
#include "store/bugs.hpp"
#include "store/raft/membership.hpp"
#include "store/raft/replica.hpp"
#include "store/raft/wal_storage.hpp"
#include "tests/storage/crashing_file_system.hpp"

using namespace dkv;
using namespace dkv::raft;

namespace {

const dkv::storage::wal_options small_segments{.segment_bytes = 256};

std::vector<entry> run_of(index_t from, index_t to, term_t term) {
  std::vector<entry> out;
  for (index_t i = from; i <= to; ++i)
    out.push_back({term, i, i == 1 ? entry_kind::config : entry_kind::command,
                   payload::copy_of(i == 1 ? encode_membership(membership{{1, 2, 3}, {}})
                                           : "t" + std::to_string(term) + "i" + std::to_string(i))});
  return out;
}

// One write the storage is asked for: a ready, or the shell's snapshot.
struct operation {
  ready work;
  std::optional<snapshot> taken;
};

operation persist(std::vector<entry> entries, std::optional<hard_state> state = {},
                  std::optional<snapshot> installed = {}) {
  operation op;
  op.work.sequence = 1;
  op.work.entries = std::move(entries);
  op.work.state = state;
  op.work.snapshot = std::move(installed);
  return op;
}

snapshot snapshot_at(index_t index, term_t term) {
  return {{index, term, {{1, 2, 3}, {}}}, payload::copy_of("state machine at " + std::to_string(index))};
}

// Appends, an overwrite of an uncommitted tail, the shell's snapshots (which
// drop segments), an installed snapshot that disagrees with the log.
std::vector<operation> script() {
  std::vector<operation> ops;
  ops.push_back(persist(run_of(1, 1, 1), hard_state{1, 0, 1}));
  ops.push_back(persist(run_of(2, 6, 2), hard_state{2, 1, 1}));
  ops.push_back(persist(run_of(5, 7, 3), hard_state{3, 0, 4}));
  ops.push_back({{}, snapshot_at(4, 2)});
  ops.push_back(persist(run_of(8, 12, 3), hard_state{3, 0, 10}));
  ops.push_back(persist({}, hard_state{4, 2, 15}, snapshot_at(15, 4)));
  ops.push_back(persist(run_of(16, 20, 4), hard_state{4, 2, 18}));
  ops.push_back({{}, snapshot_at(18, 4)});
  ops.push_back(persist(run_of(21, 25, 4), hard_state{4, 2, 23}));
  ops.push_back(persist(run_of(24, 26, 5), hard_state{5, 3, 23}));
  return ops;
}

error apply(raft::storage& s, const operation& op) {
  return op.taken ? s.save_snapshot(*op.taken) : s.persist(op.work);
}

// What the ready's entries or snapshot bring with them when the crash kept
// them but lost the new term (wal_storage::raise_term_to_log): their term,
// with no vote in it.
durable_state with_term_of_log(durable_state s) {
  term_t newest = s.latest_snapshot ? s.latest_snapshot->meta.term : 0;
  if (!s.entries.empty()) newest = std::max(newest, s.entries.back().term);
  if (newest > s.state.term) s.state = {newest, no_node, s.state.commit};
  return s;
}

// Every state a crash may leave while `op` is carried out: the log's parts
// of a ready (snapshot, entries, state) reach the disk in order, each one
// alone, and the vote files' new term and vote (synced with the log) may or
// may not have reached it meanwhile.
std::vector<durable_state> states_during(const memory_storage& before, const operation& op) {
  std::vector<durable_state> out;
  if (op.taken) {
    memory_storage model = before;
    (void)model.save_snapshot(*op.taken);
    out.push_back(model.recover());
    return out;
  }
  std::vector<ready> log_parts;
  if (op.work.snapshot) log_parts.push_back(persist({}, {}, op.work.snapshot).work);
  if (!op.work.entries.empty()) log_parts.push_back(persist(op.work.entries).work);
  if (op.work.state) log_parts.push_back(persist({}, op.work.state).work);
  for (const bool vote_reached : {false, true}) {
    if (vote_reached && !op.work.state) continue;
    memory_storage model = before;
    if (vote_reached) {
      hard_state voted = model.recover().state;
      voted.term = op.work.state->term;
      voted.vote = op.work.state->vote;
      (void)model.persist(persist({}, voted).work);
    }
    out.push_back(with_term_of_log(model.recover()));
    for (const ready& part : log_parts) {
      (void)model.persist(part);
      out.push_back(with_term_of_log(model.recover()));
    }
  }
  return out;
}

bool same(const durable_state& a, const durable_state& b) {
  const bool snapshots = a.latest_snapshot.has_value() == b.latest_snapshot.has_value() &&
                         (!a.latest_snapshot || (a.latest_snapshot->meta == b.latest_snapshot->meta &&
                                                 a.latest_snapshot->data == b.latest_snapshot->data));
  return snapshots && a.state == b.state && a.entries == b.entries;
}

std::string show(const durable_state& s) {
  std::string out = "term " + std::to_string(s.state.term) + " vote " + std::to_string(s.state.vote) + " commit " +
                    std::to_string(s.state.commit) + " snapshot " +
                    (s.latest_snapshot ? std::to_string(s.latest_snapshot->meta.index) : "-") + " log";
  for (const entry& e : s.entries) out += " " + std::to_string(e.index) + "@" + std::to_string(e.term);
  return out;
}

durable_state reopen(dkv::storage::file_system& fs, bool& damaged) {
  std::unique_ptr<wal_storage> storage;
  REQUIRE(wal_storage::open(fs, small_segments, storage).ok());
  damaged = storage->damaged();
  return storage->recover();
}

// Reopening the disk gives exactly what the model holds, undamaged.
void check_recovers(sim::sim_disk& disk, memory_storage& model) {
  bool damaged = true;
  const durable_state recovered = reopen(disk.files(), damaged);
  INFO("recovered " << show(recovered) << "\nexpected  " << show(model.recover()));
  CHECK_FALSE(damaged);
  CHECK(same(recovered, model.recover()));
}

}  // namespace

TEST_CASE("wal_storage recovers exactly what memory_storage holds, after every write") {
  sim::sim_disk disk{rng(1)};
  memory_storage model;
  std::unique_ptr<wal_storage> storage;
  REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
  for (const operation& op : script()) {
    REQUIRE(apply(*storage, op).ok());
    (void)apply(model, op);
    check_recovers(disk, model);
  }
  // The shell's snapshots removed the segments that held only covered entries.
  std::vector<std::string> names;
  REQUIRE(disk.files().list(names).ok());
  CHECK(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.rfind("wal-", 0) == 0; }) <= 3);
}

TEST_CASE("wal_storage: a crash at every write boundary keeps every acknowledged write") {
  const std::vector<operation> ops = script();
  std::size_t boundaries = 0;
  for (std::uint64_t budget = 0;; ++budget) {
    bool finished = false;
    for (std::uint64_t seed = 0; seed < 3 && !finished; ++seed) {
      sim::sim_disk disk{rng(budget * 3 + seed)};
      std::size_t acknowledged = 0;
      {
        test::crashing_file_system crashing(disk, budget);
        std::unique_ptr<wal_storage> storage;
        if (wal_storage::open(crashing, small_segments, storage).ok()) storage->renew_promise_every(1);
        if (storage)
          while (acknowledged < ops.size() && apply(*storage, ops[acknowledged]).ok()) ++acknowledged;
        finished = !crashing.crashed();
      }
      if (finished) break;
      // A crash inside recovery too, then recover for good.
      {
        test::crashing_file_system during_recovery(disk, seed);
        std::unique_ptr<wal_storage> storage;
        (void)wal_storage::open(during_recovery, small_segments, storage);
      }
      memory_storage model;
      for (std::size_t i = 0; i < acknowledged; ++i) (void)apply(model, ops[i]);
      std::vector<durable_state> allowed{model.recover()};
      if (acknowledged < ops.size())
        for (durable_state& s : states_during(model, ops[acknowledged])) allowed.push_back(std::move(s));
      bool damaged = true;
      const durable_state recovered = reopen(disk.files(), damaged);
      INFO("budget " << budget << ", seed " << seed << ", " << acknowledged << " writes acknowledged; recovered "
                     << show(recovered) << "; last acknowledged state " << show(allowed.front()));
      CHECK_FALSE(damaged);
      CHECK(std::any_of(allowed.begin(), allowed.end(), [&](const durable_state& s) { return same(s, recovered); }));
    }
    if (finished) break;
    ++boundaries;
  }
  CHECK(boundaries > 30);
}

TEST_CASE("wal_storage: damaged synced bytes are reported, never applied") {
  sim::sim_disk disk{rng(2)};
  {
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    for (const operation& op : script()) REQUIRE(apply(*storage, op).ok());
  }
  SECTION("the snapshot file") {
    REQUIRE(disk.damage(wal_storage::snapshot_file_name, 20));
    bool damaged = false;
    const durable_state recovered = reopen(disk.files(), damaged);
    CHECK(damaged);
    CHECK_FALSE(recovered.latest_snapshot.has_value());
  }
  SECTION("a log segment") {
    std::vector<std::string> names;
    REQUIRE(disk.files().list(names).ok());
    const auto segment =
        std::find_if(names.begin(), names.end(), [](const std::string& n) { return n.rfind("wal-", 0) == 0; });
    REQUIRE(segment != names.end());
    REQUIRE(disk.damage(*segment, 30));
    bool damaged = false;
    (void)reopen(disk.files(), damaged);
    CHECK(damaged);
  }
}

TEST_CASE("wal_storage: a snapshot at the last entry of a full segment keeps the entries after it") {
  const dkv::storage::wal_options tiny{.segment_bytes = 256};
  sim::sim_disk disk{rng(3)};
  memory_storage model;
  {
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), tiny, storage).ok());
    const auto padded = [](index_t from, index_t to) {
      std::vector<entry> out;
      for (index_t i = from; i <= to; ++i)
        out.push_back({2, i, entry_kind::command, payload::copy_of(std::string(32, 'p'))});
      return out;
    };
    for (const operation& op : {persist(padded(1, 10), hard_state{2, 1, 10}),
                                persist(padded(11, 20), hard_state{2, 1, 20}),  // starts a new segment
                                operation{{}, snapshot_at(10, 2)}}) {
      REQUIRE(apply(*storage, op).ok());
      (void)apply(model, op);
    }
  }
  check_recovers(disk, model);
}

TEST_CASE("wal_storage: a snapshot file whose mark a crash lost, then the entries after it, is no damage") {
  // A leader's snapshot at 10 past a log ending at 6: the file is synced,
  // then the crash comes before (or while) its mark reaches the log.
  // Recovery adopts the file; the entries the leader sends next (from 11 on)
  // must still replay after another restart.
  std::size_t adopted = 0;
  for (std::uint64_t budget = 0; budget < 12; ++budget) {
    INFO("crash after " << budget << " writes");
    sim::sim_disk disk{rng(budget)};
    {
      std::unique_ptr<wal_storage> storage;
      REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
      REQUIRE(apply(*storage, persist(run_of(1, 6, 1), hard_state{1, 1, 6})).ok());
    }
    {
      test::crashing_file_system crashing(disk, budget);
      std::unique_ptr<wal_storage> storage;
      REQUIRE(wal_storage::open(crashing, small_segments, storage).ok());
      ready work = persist({}, {}, snapshot_at(10, 1)).work;
      if (storage->write(work).ok()) (void)crashing.sync_directory();  // spends the budget if the write did not
      if (!crashing.crashed()) disk.crash();                           // the mark was written, never synced
    }
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    CHECK_FALSE(storage->damaged());
    const durable_state first = storage->recover();
    const bool has_snapshot = first.latest_snapshot.has_value();
    adopted += has_snapshot;
    // What a leader sends next: the entries after the snapshot, or after the log.
    const index_t next = has_snapshot ? 11 : 7;
    REQUIRE(apply(*storage, persist(run_of(next, next + 2, 1), hard_state{1, 1, next})).ok());
    storage.reset();
    bool damaged = true;
    const durable_state recovered = reopen(disk.files(), damaged);
    INFO("recovered " << show(recovered));
    CHECK_FALSE(damaged);
    CHECK(recovered.latest_snapshot.has_value() == has_snapshot);
    REQUIRE_FALSE(recovered.entries.empty());
    CHECK(recovered.entries.back().index == next + 2);
    CHECK(recovered.entries.front().index == (has_snapshot ? 11 : 1));
  }
  CHECK(adopted > 0);
}

TEST_CASE("wal_storage: the vote files keep every change until they grow long, then restart from the latest") {
  sim::sim_disk disk{rng(5)};
  {
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    for (term_t t = 1; t <= 3000; ++t) REQUIRE(apply(*storage, persist({}, hard_state{t, t % 3 + 1, 0})).ok());
  }
  std::string bytes;
  REQUIRE(dkv::storage::read_file(disk.files(), "raft-vote-a", bytes).ok());
  CHECK(bytes.size() == 3000 * 28);  // one record per change, appended
  // Damage to the latest record of one file: the other has it.
  REQUIRE(disk.damage("raft-vote-a", 2999 * 28 + 5));
  bool damaged = false;
  durable_state recovered = reopen(disk.files(), damaged);
  CHECK(recovered.state.term == 3000);
  CHECK(recovered.state.vote == 3000 % 3 + 1);
  // That open rewrote both files, past 64 KiB, with the latest record alone.
  REQUIRE(dkv::storage::read_file(disk.files(), "raft-vote-a", bytes).ok());
  CHECK(bytes.size() == 28);
  REQUIRE(dkv::storage::read_file(disk.files(), "raft-vote-b", bytes).ok());
  CHECK(bytes.size() == 28);
  disk.crash();
  recovered = reopen(disk.files(), damaged);
  CHECK(recovered.state.term == 3000);
  CHECK(recovered.state.vote == 3000 % 3 + 1);
}

TEST_CASE("wal_storage: a vote file's torn last record is cut, and the records after it are read") {
  sim::sim_disk disk{rng(6)};
  {
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    REQUIRE(apply(*storage, persist({}, hard_state{1, 1, 0})).ok());
  }
  for (const char* name : {"raft-vote-a", "raft-vote-b"}) {  // half a record, as a crash may leave it
    std::unique_ptr<dkv::storage::file> f;
    REQUIRE(disk.files().open(name, dkv::storage::open_mode::existing, f).ok());
    REQUIRE(f->append("DKVV0123456789").ok());
    REQUIRE(f->sync().ok());
  }
  {
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    REQUIRE(apply(*storage, persist({}, hard_state{2, 3, 0})).ok());
  }
  std::string bytes;
  REQUIRE(dkv::storage::read_file(disk.files(), "raft-vote-a", bytes).ok());
  CHECK(bytes.size() == 2 * 28);
  // With the log's records gone, the vote files alone still know term 2's vote.
  std::vector<std::string> names;
  REQUIRE(disk.files().list(names).ok());
  for (const std::string& n : names)
    if (n.rfind("wal-", 0) == 0) REQUIRE(disk.files().remove(n).ok());
  bool damaged = false;
  const durable_state recovered = reopen(disk.files(), damaged);
  CHECK(recovered.state.term == 2);
  CHECK(recovered.state.vote == 3);
}

TEST_CASE("wal_storage: damage to the log does not roll back the term and vote") {
  sim::sim_disk disk{rng(4)};
  {
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    REQUIRE(apply(*storage, persist(run_of(1, 3, 1), hard_state{3, 1, 2})).ok());
    REQUIRE(apply(*storage, persist(run_of(4, 8, 4), hard_state{4, 2, 6})).ok());
  }
  // A byte of the first record flips: recovery cuts everything after it,
  // including both hard-state records.
  std::vector<std::string> names;
  REQUIRE(disk.files().list(names).ok());
  const auto first_segment =
      std::find_if(names.begin(), names.end(), [](const std::string& n) { return n.rfind("wal-0", 0) == 0; });
  REQUIRE(first_segment != names.end());
  REQUIRE(disk.damage(*first_segment, 30));
  SECTION("both vote files intact") {}
  SECTION("one vote file damaged too") { REQUIRE(disk.damage("raft-vote-b", 10)); }
  bool damaged = false;
  const durable_state recovered = reopen(disk.files(), damaged);
  CHECK(damaged);
  CHECK(recovered.state.term == 4);
  CHECK(recovered.state.vote == 2);
}

namespace {

// The script, then one more entries record (with a config entry) that ends the log.
void write_script_ending_in_entries(sim::sim_disk& disk) {
  std::unique_ptr<wal_storage> storage;
  REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
  for (const operation& op : script()) REQUIRE(apply(*storage, op).ok());
  std::vector<entry> tail{{5, 27, entry_kind::config, payload::copy_of(encode_membership(membership{{1, 2, 3}, {}}))},
                          {5, 28, entry_kind::command, payload::copy_of("t5i28")},
                          {5, 29, entry_kind::noop, {}}};
  REQUIRE(apply(*storage, persist(std::move(tail))).ok());
}

std::string last_segment(sim::sim_disk& disk) {
  std::vector<std::string> names;
  REQUIRE(disk.files().list(names).ok());
  std::string last;
  for (const std::string& n : names)
    if (n.starts_with("wal-") && n.ends_with(".log")) last = std::max(last, n);
  return last;
}

// Opens the storage and runs a replica on what it recovered for a while: whatever
// garbage came through, the outcome is damage or a state to run on, never a crash.
bool recover_and_run(sim::sim_disk& disk) {
  std::unique_ptr<wal_storage> storage;
  REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
  const bool damaged = storage->damaged();
  options opts;
  opts.id = 1;
  opts.initial_voters = {1, 2, 3};
  replica r(opts, storage->recover(), 1);
  for (int i = 0; i < 50; ++i) {
    r.tick();
    const ready work = r.take_ready();
    if (work.must_persist()) r.persisted(work.sequence);
  }
  return damaged;
}

}  // namespace

TEST_CASE("injected bug wal-accepts-torn: garbage that reaches the decoders is damage, never a crash", "[bugs]") {
  const bool bug = GENERATE(false, true);
  std::optional<bugs::scoped_bugs> guard;
  if (bug) guard.emplace(bugs::bit(bugs::bug::wal_accepts_torn));
  // The last record: a header, then u64 first index, u32 count, three entries (u64 term, u8
  // kind, u32 size each) holding 32 bytes of membership and 5 of command. Before it: a hard state.
  constexpr std::uint64_t last_record = 24 + 8 + 4 + 3 * (8 + 1 + 4) + 32 + 5, hard_state_record = 24 + 24;
  std::size_t damaged = 0;
  for (std::uint64_t cut = 1; cut <= last_record + hard_state_record; ++cut) {
    INFO("cut " << cut);
    sim::sim_disk disk{rng(cut)};
    write_script_ending_in_entries(disk);
    std::unique_ptr<dkv::storage::file> f;
    REQUIRE(disk.files().open(last_segment(disk), dkv::storage::open_mode::existing, f).ok());
    REQUIRE(f->truncate(f->size() - cut).ok());
    REQUIRE(f->sync().ok());
    f.reset();
    damaged += recover_and_run(disk);
  }
  // A torn tail is cut silently; kept, a partial payload does not decode: damage (the node repairs).
  if (bug)
    CHECK(damaged == (last_record - 24) + (hard_state_record - 24));  // every partial payload, the empty one too
  else
    CHECK(damaged == 0);
  if (!bug) return;
  for (std::uint64_t back = 1; back <= last_record; ++back) {
    INFO("flipped the byte " << back << " from the end");
    sim::sim_disk disk{rng(back)};
    write_script_ending_in_entries(disk);
    std::unique_ptr<dkv::storage::file> f;
    const std::string segment = last_segment(disk);
    REQUIRE(disk.files().open(segment, dkv::storage::open_mode::existing, f).ok());
    REQUIRE(disk.damage(segment, f->size() - back));
    f.reset();
    (void)recover_and_run(disk);  // may decode into nonsense, the bug's harm, but never crashes
  }
}

namespace {

// A log of `readies` readies, one entry each, every one committed when the
// next is written (as a leader alone commits), on small segments.
void write_committed_log(dkv::storage::file_system& fs, index_t readies,
                         const dkv::storage::wal_options& options = small_segments) {
  std::unique_ptr<wal_storage> storage;
  REQUIRE(wal_storage::open(fs, options, storage).ok());
  REQUIRE(storage->persist(persist(run_of(1, 1, 1), hard_state{1, 1, 0}).work).ok());
  for (index_t i = 2; i <= readies; ++i)
    REQUIRE(storage->persist(persist(run_of(i, i, 1), hard_state{1, 1, i - 1}).work).ok());
  CHECK(storage->promised().index >= readies - 2 * wal_storage::promise_every);
}

std::vector<std::string> segments_of(dkv::storage::file_system& fs) {
  std::vector<std::string> names, segments;
  REQUIRE(fs.list(names).ok());
  for (const std::string& n : names)
    if (n.rfind("wal-", 0) == 0 && n.size() > 8) segments.push_back(n);
  return segments;
}

}  // namespace

TEST_CASE("wal_storage: a log cut short of what it promised is damage that names what is lost", "[promise]") {
  sim::sim_disk disk{rng(7)};
  write_committed_log(disk.files(), 100);
  std::unique_ptr<wal_storage> before;
  REQUIRE(wal_storage::open(disk.files(), small_segments, before).ok());
  const index_t promised = before->promised().index;
  REQUIRE(promised > 40);
  before.reset();

  SECTION("the last segments gone, as an operator's rm or a lost file") {
    std::vector<std::string> segments = segments_of(disk.files());
    REQUIRE(segments.size() > 3);
    for (std::size_t i = segments.size() / 2; i < segments.size(); ++i) REQUIRE(disk.files().remove(segments[i]).ok());
    REQUIRE(disk.files().sync_directory().ok());
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    CHECK(storage->damaged());
    CHECK_THAT(storage->problem(), Catch::Contains("committed entries") && Catch::Contains("segments are missing"));
    CHECK(storage->recover().needs_repair);
  }
  SECTION("every segment gone") {
    for (const std::string& segment : segments_of(disk.files())) REQUIRE(disk.files().remove(segment).ok());
    std::unique_ptr<wal_storage> storage;
    REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
    CHECK(storage->damaged());
    CHECK_THAT(storage->problem(), Catch::Contains("committed entries (1.." + std::to_string(promised) + ") are lost"));
  }
  SECTION("the loss accepted: the log as it is becomes the promise, and stays undamaged") {
    for (const std::string& segment : segments_of(disk.files())) REQUIRE(disk.files().remove(segment).ok());
    {
      std::unique_ptr<wal_storage> storage;
      REQUIRE(wal_storage::open(disk.files(), small_segments, storage).ok());
      REQUIRE(storage->damaged());
      REQUIRE(storage->accept_data_loss().ok());
      CHECK_FALSE(storage->damaged());
      CHECK(storage->promised().index == 0);
    }
    bool damaged = true;
    (void)reopen(disk.files(), damaged);
    CHECK_FALSE(damaged);
  }
}

TEST_CASE("wal_storage: a tail cut beyond what a crash may cut is damage", "[promise]") {
  const dkv::storage::wal_options one_segment{.segment_bytes = 1 << 20};
  sim::sim_disk disk{rng(8)};
  write_committed_log(disk.files(), 100, one_segment);
  const std::vector<std::string> segments = segments_of(disk.files());
  REQUIRE(segments.size() == 1);
  std::unique_ptr<dkv::storage::file> log;
  REQUIRE(disk.files().open(segments.front(), dkv::storage::open_mode::existing, log).ok());
  REQUIRE(log->truncate(log->size() / 2).ok());
  REQUIRE(log->sync().ok());
  std::unique_ptr<wal_storage> storage;
  REQUIRE(wal_storage::open(disk.files(), one_segment, storage).ok());
  CHECK(storage->damaged());
  CHECK_THAT(storage->problem(), Catch::Contains("committed entries (") && Catch::Contains(") are lost"));
}

TEST_CASE("wal_storage: what a crash cuts is never taken for a broken promise", "[promise]") {
  // The promise of every sync (renewed at each), then crashes at random
  // points of a long run: every recovery is undamaged.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    sim::sim_disk disk{rng(100 + seed)};
    {
      test::crashing_file_system crashing(disk, 30 + seed * 7);
      std::unique_ptr<wal_storage> storage;
      if (wal_storage::open(crashing, small_segments, storage).ok()) {
        storage->renew_promise_every(1);
        for (index_t i = 1; i <= 60; ++i)
          if (!storage->persist(persist(run_of(i, i, 1), hard_state{1, 1, i > 1 ? i - 1 : 0}).work).ok()) break;
      }
    }
    bool damaged = true;
    (void)reopen(disk.files(), damaged);
    INFO("seed " << seed);
    CHECK_FALSE(damaged);
  }
}
