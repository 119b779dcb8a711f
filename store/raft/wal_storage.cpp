#include "store/raft/wal_storage.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "store/assert.hpp"
#include "store/bugs.hpp"
#include "store/byte_io.hpp"
#include "store/raft/entry_codec.hpp"
#include "store/raft/membership.hpp"
#include "store/storage/snapshot_file.hpp"

#include <xxhash.h>

namespace dkv::raft {

namespace {

enum record_type : std::uint8_t { snapshot_mark = 1, entries_record = 2, hard_state_record = 3 };

// Term and vote also live in two small append-only files, a record appended
// to each whenever they change: damage to the WAL cuts every record after
// it, which could take the latest hard state along and let the node vote
// twice in a term. The two are synced with the log, in the background;
// appends never touch synced bytes, so a sync under way while the next
// record goes in loses nothing, and damage to one file leaves the other.
// Record: "DKVV" | u64 term | u64 vote | u64 XXH3-64 of the 20 bytes before.
constexpr const char* vote_files[] = {"raft-vote-a", "raft-vote-b"};
constexpr std::size_t vote_record_bytes = 4 + 8 + 8 + 8;
// Past this size a vote file is rewritten with its latest record on open.
constexpr std::uint64_t vote_file_rewrite_bytes = 64 << 10;

std::string encode_vote(const hard_state& s) {
  std::string out = "DKVV";
  byte_writer w(out);
  w.u64(s.term);
  w.u64(s.vote);
  w.u64(XXH3_64bits(out.data(), out.size()));
  return out;
}

bool decode_vote(std::string_view bytes, hard_state& s) {
  if (bytes.size() != vote_record_bytes || bytes.substr(0, 4) != "DKVV") return false;
  byte_reader r(bytes.substr(4));
  std::uint64_t sum = 0;
  return r.u64(s.term) && r.u64(s.vote) && r.u64(sum) && sum == XXH3_64bits(bytes.data(), 20);
}

// Within a term the vote only goes from nobody to someone: the later of two
// records has the higher term, or the same term and a vote.
bool later(const hard_state& a, const hard_state& b) {
  return a.term != b.term ? a.term > b.term : a.vote != no_node && b.vote == no_node;
}

// The latest of a vote file's records that check out (a torn or damaged
// one is simply not believed); false if none does.
bool latest_vote(std::string_view bytes, hard_state& out) {
  bool found = false;
  for (std::size_t at = 0; at + vote_record_bytes <= bytes.size(); at += vote_record_bytes) {
    hard_state s;
    if (decode_vote(bytes.substr(at, vote_record_bytes), s) && (!found || later(s, out))) {
      out = s;
      found = true;
    }
  }
  return found;
}

std::string encode_snapshot(const snapshot& s) {
  std::string out;
  byte_writer w(out);
  w.u64(s.meta.index);
  w.u64(s.meta.term);
  w.bytes(encode_membership(s.meta.config));
  w.u64(s.data.size());
  out.append(s.data.view());
  return out;
}

bool decode_snapshot(std::string_view bytes, snapshot& s) {
  byte_reader r(bytes);
  std::string_view config;
  std::uint64_t size = 0;
  if (!r.u64(s.meta.index) || !r.u64(s.meta.term) || !r.bytes(config) || !r.u64(size) || size != r.remaining())
    return false;
  auto decoded = decode_membership(config);
  if (!decoded) return false;
  s.meta.config = std::move(*decoded);
  s.data = payload::copy_of(bytes.substr(bytes.size() - size));
  return true;
}

bool decode_entries(std::string_view bytes, std::vector<entry>& out) {
  byte_reader r(bytes);
  std::uint64_t first = 0;
  return r.u64(first) && get_entries(r, first, out) && r.remaining() == 0;
}

}  // namespace

error wal_storage::open(dkv::storage::file_system& fs, const dkv::storage::wal_options& options,
                        std::unique_ptr<wal_storage>& out) {
  std::unique_ptr<wal_storage> opened(new wal_storage(fs));
  dkv::storage::wal_recovery recovered;
  if (error e = dkv::storage::wal::open(fs, options, opened->wal_, recovered); !e.ok()) return e;
  if (recovered.damaged || opened->wal_->damaged())  // damage found now, or a repair never finished
    opened->mark_damaged(recovered.problem.empty() ? "a repair did not finish" : recovered.problem);
  if (error e = opened->replay(recovered); !e.ok()) return e;
  if (opened->unmarked_snapshot_) {
    if (error e = opened->append_mark(*opened->unmarked_snapshot_); !e.ok()) return e;
    if (error e = opened->wal_->sync(); !e.ok()) return e;
    opened->unmarked_snapshot_.reset();
  }
  if (error e = opened->check_promise(); !e.ok()) return e;
  std::string problem;
  if (error e = identity_file::read(fs, opened->recovered_.identity, problem); !e.ok()) return e;
  if (!problem.empty()) {
    opened->mark_damaged(problem);
    opened->recovered_.needs_repair = true;
  }
  out = std::move(opened);
  return {};
}

void wal_storage::mark_damaged(std::string problem) {
  problem_ += (problem_.empty() ? "" : "; ") + problem;
  damaged_ = true;
}

error wal_storage::check_promise() {
  if (error e = promise_file::open(fs_, promises_); !e.ok()) return e;
  const durable_state& state = recovered_;
  written_end_ = !state.entries.empty()  ? state.entries.back().index
                 : state.latest_snapshot ? state.latest_snapshot->meta.index
                                         : 0;
  durable_claim_ = promises_->latest().index;
  std::string broken = broken_promise(promises_->latest(), written_end_, wal_->segments());
  // injected bug unchecked_promise: a log that ends before its promise is taken for whole.
  if (bugs::on(bugs::bug::unchecked_promise)) broken.clear();
  if (!broken.empty()) {
    mark_damaged(std::move(broken));
    recovered_.needs_repair = true;
  }
  return {};
}

error wal_storage::renew_promise(index_t claim, std::uint64_t first_segment) {
  const promise& latest = promises_->latest();
  if (claim <= latest.index && first_segment == latest.first_segment) return {};
  if (error e = promises_->append({std::max(claim, latest.index), first_segment, wal_->current_segment()}); !e.ok())
    return e;
  promise_unsynced_ = true;
  syncs_since_promise_ = 0;
  return {};
}

error wal_storage::accept_data_loss() {
  if (error e = clear_damage(); !e.ok()) return e;
  durable_claim_ = std::min(state_.commit, written_end_);
  return promises_->reset(fs_, {durable_claim_, wal_->segments().front(), wal_->current_segment()});
}

error wal_storage::replay(const dkv::storage::wal_recovery& recovered) {
  durable_state& state = recovered_;
  std::optional<snapshot_meta> last_mark;
  std::vector<entry> batch;
  for (const auto& record : recovered.records) {
    byte_reader r(record.payload);
    switch (record.type) {
      case hard_state_record: {
        // All or nothing: half a record must not pair a new term with an old vote.
        hard_state decoded;
        if (!r.u64(decoded.term) || !r.u64(decoded.vote) || !r.u64(decoded.commit) || !r.done())
          mark_damaged("a hard state record does not decode");
        else
          state.state = decoded;
        break;
      }
      case entries_record:
        if (!decode_entries(record.payload, batch)) {
          mark_damaged("an entries record does not decode");
          break;
        }
        if (!batch.empty()) segment_last_[record.segment] = std::max(segment_last_[record.segment], batch.back().index);
        std::erase_if(batch, [&](const entry& e) { return last_mark && e.index <= last_mark->index; });
        if (!append_entries(state.entries, batch)) mark_damaged("an entries record leaves a gap in the log");
        break;
      case snapshot_mark: {
        snapshot_meta mark;
        if (!r.u64(mark.index) || !r.u64(mark.term)) {
          mark_damaged("a snapshot mark does not decode");
          break;
        }
        // A later snapshot removed the segments it no longer needed, and
        // with them, maybe, this mark's own entry: a log that begins after
        // the mark was cut around it, not contradicted, and is kept. The
        // later snapshot's mark, in a kept segment with its entry, decides.
        // (Clearing it lost synced entries: with a snapshot every entry, a
        // follower's acknowledged entry was gone after a crash.)
        if (!state.entries.empty() && state.entries.front().index > mark.index) {
          last_mark = mark;
          break;
        }
        // The same rule as installing the snapshot itself, minus its data.
        install_snapshot(state, snapshot{mark, {}});
        state.latest_snapshot.reset();
        last_mark = mark;
        break;
      }
      default: mark_damaged("a record of unknown type " + std::to_string(record.type));
    }
  }

  std::string bytes;
  std::vector<std::string> names;
  if (error e = fs_.list(names); !e.ok()) return e;
  if (std::binary_search(names.begin(), names.end(), snapshot_file_name)) {
    snapshot s;
    const error e = dkv::storage::read_snapshot_file(fs_, snapshot_file_name, bytes);
    if (!e.ok() || !decode_snapshot(bytes, s)) {
      mark_damaged("the snapshot file is unreadable: " + (e.ok() ? std::string("bad contents") : e.message()));
    } else if (last_mark && s.meta.index < last_mark->index) {
      mark_damaged("the snapshot file is older than the log says");
    } else if (last_mark && s.meta.index == last_mark->index) {
      state.latest_snapshot = std::move(s);  // its mark already trimmed the log
    } else {
      // Written just before a crash, its mark never was: the mark goes into
      // the log now (open() syncs it), ahead of the entries that follow the
      // snapshot, or the next replay would find them past a gap.
      unmarked_snapshot_ = s.meta;
      install_snapshot(state, s);
    }
  } else if (last_mark) {
    mark_damaged("the log refers to a snapshot file that is missing");
  }
  // The vote files hold the latest term and vote if the log lost them.
  bool named = true;
  for (std::size_t i = 0; i < 2; ++i) {
    named = named && std::binary_search(names.begin(), names.end(), vote_files[i]);
    std::unique_ptr<dkv::storage::file> f;
    if (error e = fs_.open(vote_files[i], dkv::storage::open_mode::create, f); !e.ok()) return e;
    hard_state voted;
    if (f->read(0, static_cast<std::size_t>(f->size()), bytes).ok() && latest_vote(bytes, voted) &&
        later(voted, state.state)) {
      state.state.term = voted.term;
      state.state.vote = voted.vote;
    }
    // A torn last record (a crash during its append) is cut, or every
    // record appended after it would sit off the 28-byte grid.
    if (const std::uint64_t torn = f->size() % vote_record_bytes; torn != 0)
      if (error e = f->truncate(f->size() - torn); !e.ok()) return e;
    vote_logs_[i] = std::move(f);
  }
  if (!named)
    if (error e = fs_.sync_directory(); !e.ok()) return e;
  raise_term_to_log(state);
  if (!state.entries.empty())
    log_end_ = state.entries.back().index;
  else if (state.latest_snapshot)
    log_end_ = state.latest_snapshot->meta.index;
  if (last_mark) log_end_ = std::max(log_end_, last_mark->index);
  state_ = state.state;
  voted_ = state.state;
  state.needs_repair = damaged_;
  return rewrite_long_vote_files();
}

void wal_storage::raise_term_to_log(durable_state& state) {
  // The vote files and the log are synced together, so a crash may keep a
  // ready's entries (or snapshot) and lose its new term. Those entries were
  // never acknowledged, nor was a vote of that term sent (it waits for the
  // same sync), so the node takes their term with no vote in it, as it did
  // when it took them in.
  term_t newest = state.latest_snapshot ? state.latest_snapshot->meta.term : 0;
  if (!state.entries.empty()) newest = std::max(newest, state.entries.back().term);
  if (newest <= state.state.term) return;
  state.state.term = newest;
  state.state.vote = no_node;
}

error wal_storage::rewrite_long_vote_files() {
  // One after the other, each synced before the next is cut: while one is
  // rewritten the other holds the latest vote.
  const std::string record = encode_vote(voted_);
  for (const auto& f : vote_logs_) {
    if (f->size() <= vote_file_rewrite_bytes) continue;
    if (error e = f->truncate(0); !e.ok()) return e;
    if (error e = f->append(record); !e.ok()) return e;
    if (error e = f->sync(); !e.ok()) return e;
  }
  return {};
}

error wal_storage::write_vote(const hard_state& s) {
  // One vote per term: a later record has a higher term, or the same term
  // and the vote where there was none (what recovery's `later` believes).
  DKV_ASSERT(later(s, voted_), s.term, s.vote, voted_.term, voted_.vote);
  const std::string record = encode_vote(s);
  for (const auto& f : vote_logs_)
    if (error e = f->append(record); !e.ok()) return e;
  voted_ = s;
  vote_unsynced_ = true;
  return {};
}

error wal_storage::clear_damage() {
  if (!damaged_) return {};
  if (error e = wal_->clear_damage(); !e.ok()) return e;
  damaged_ = false;
  problem_.clear();
  return {};
}

durable_state wal_storage::recover() { return std::exchange(recovered_, {}); }

error wal_storage::write_snapshot(const snapshot& s) {
  return dkv::storage::write_snapshot_file(fs_, snapshot_file_name, encode_snapshot(s));
}

error wal_storage::append_mark(const snapshot_meta& meta) {
  log_end_ = std::max(log_end_, meta.index);
  buffer_.clear();
  byte_writer w(buffer_);
  w.u64(meta.index);
  w.u64(meta.term);
  return wal_->append(snapshot_mark, buffer_);
}

error wal_storage::append_state(const hard_state& state) {
  DKV_ASSERT(state.term >= state_.term, state.term, state_.term);  // terms on disk never go back
  buffer_.clear();
  byte_writer w(buffer_);
  w.u64(state.term);
  w.u64(state.vote);
  w.u64(state.commit);
  state_ = state;
  return wal_->append(hard_state_record, buffer_);
}

error wal_storage::append_entries_record(const std::vector<entry>& entries) {
  // The record stores its first index only: the entries are consecutive,
  // and they continue the log (replacing what they overlap) with no gap.
  const index_t first = entries.front().index;
  DKV_ASSERT(first >= 1 && first <= log_end_ + 1, first, log_end_);
  for (std::size_t i = 1; i < entries.size(); ++i)
    DKV_ASSERT(entries[i].index == first + i, first, i, entries[i].index);
  log_end_ = entries.back().index;
  buffer_.clear();
  byte_writer w(buffer_);
  w.u64(entries.front().index);
  put_entries(w, entries);
  if (error e = wal_->append(entries_record, buffer_); !e.ok()) return e;
  index_t& last = segment_last_[wal_->current_segment()];
  last = std::max(last, entries.back().index);
  written_end_ = entries.back().index;  // a follower's append may end the log earlier than before
  return {};
}

error wal_storage::persist(const ready& work) {
  if (error e = write(work); !e.ok()) return e;
  return work.must_persist() ? sync() : error{};
}

error wal_storage::sync() {
  if (error e = dkv::storage::sync_all(files_to_sync()); !e.ok()) return e;
  synced();
  return {};
}

std::vector<std::shared_ptr<dkv::storage::file>> wal_storage::files_to_sync() {
  std::vector<std::shared_ptr<dkv::storage::file>> files;
  if (vote_unsynced_) files.assign(std::begin(vote_logs_), std::end(vote_logs_));
  vote_unsynced_ = false;
  if (promise_unsynced_) files.push_back(promises_->file());
  promise_unsynced_ = false;
  if (!skip_sync_) files.push_back(wal_->current_file());
  // Raft never truncates a committed entry, so once this sync is done what
  // is committed up to here stays in the log, whatever leader comes next.
  syncing_claim_ = std::min(state_.commit, written_end_);
  return files;
}

void wal_storage::synced() {
  durable_claim_ = std::max(durable_claim_, syncing_claim_);
  ++syncs_since_promise_;
}

error wal_storage::write(const ready& work) {
  if (!work.must_persist() && !work.state) return {};
  // The marker first: an identity that has met the peer who told us of the
  // loss must never be on disk without it.
  if (!work.lost.empty()) {
    if (error e = wal_->mark_damaged(); !e.ok()) return e;
    mark_damaged(work.lost);
  }
  if (work.identity)
    if (error e = identity_file::write(fs_, *work.identity); !e.ok()) return e;
  if (work.state && (work.state->term != voted_.term || work.state->vote != voted_.vote))
    if (error e = write_vote(*work.state); !e.ok()) return e;
  if (work.snapshot) {
    if (error e = write_snapshot(*work.snapshot); !e.ok()) return e;
    if (error e = append_mark(work.snapshot->meta); !e.ok()) return e;
    written_end_ = std::max(written_end_, work.snapshot->meta.index);
  }
  if (!work.entries.empty())
    if (error e = append_entries_record(work.entries); !e.ok()) return e;
  if (work.state)
    if (error e = append_state(*work.state); !e.ok()) return e;
  // The renewal claims only what an earlier sync made durable, so it may
  // go out with this ready's own sync in any order.
  if (syncs_since_promise_ >= promise_every_)
    if (error e = renew_promise(durable_claim_, wal_->segments().front()); !e.ok()) return e;
  return {};
}

error wal_storage::save_snapshot(const snapshot& taken) {
  // The shell snapshots what it applied, so committed: the hard state
  // written with those entries says so.
  DKV_ASSERT(taken.meta.index <= state_.commit, taken.meta.index, state_.commit);
  if (error e = write_snapshot(taken); !e.ok()) return e;
  std::uint64_t segment = 0;
  if (error e = wal_->rotate(segment); !e.ok()) return e;
  if (error e = append_state(state_); !e.ok()) return e;
  if (error e = append_mark(taken.meta); !e.ok()) return e;
  if (error e = wal_->sync(); !e.ok()) return e;
  // Keep every segment from the first one holding the snapshot's own entry
  // or a later one: replaying the mark needs the entry at its index to see
  // that the log agrees with it (else it would drop the whole log).
  std::uint64_t keep_from = segment;
  for (const auto& [seg, last] : segment_last_)
    if (last >= taken.meta.index) {
      keep_from = std::min(keep_from, seg);
      break;
    }
  std::erase_if(segment_last_, [&](const auto& kv) { return kv.first < keep_from; });
  // The promise names the segments that stay before any goes: a crash in
  // between leaves more segments than it names, never fewer.
  durable_claim_ = std::max(durable_claim_, std::min(state_.commit, written_end_));
  // (A broken promise is carried forward: claims never go back.)
  if (error e = renew_promise(durable_claim_, keep_from); !e.ok()) return e;
  if (promise_unsynced_) {
    if (error e = promises_->file()->sync(); !e.ok()) return e;
    promise_unsynced_ = false;
  }
  return wal_->remove_segments_before(keep_from);
}

}  // namespace dkv::raft
