#include "store/replicated/state_machine.hpp"

#include "store/assert.hpp"
#include "store/bugs.hpp"
#include "store/byte_io.hpp"
#include "store/command.hpp"
#include "store/replicated/log_command.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dkv::replicated {

namespace {

constexpr char snapshot_magic[8] = {'D', 'K', 'V', 'S', 'T', 'A', 'T', 'E'};
constexpr std::uint32_t snapshot_version = 1;
// Reclaim a little every this many store writes, as lstore does.
constexpr std::uint64_t reclaim_every = 64;
constexpr std::size_t reclaim_budget = 64;

}  // namespace

std::string_view status_name(apply_status status) noexcept {
  switch (status) {
    case apply_status::applied: return "applied";
    case apply_status::duplicate: return "duplicate";
    case apply_status::session_opened: return "session_opened";
    case apply_status::unknown_session: return "unknown_session";
    case apply_status::stale_sequence: return "stale_sequence";
    case apply_status::too_many_pending: return "too_many_pending";
    case apply_status::malformed: return "malformed";
  }
  return "unknown";
}

state_machine::state_machine(state_machine_options options, const db_factory& make_engine)
    : options_(options), engine_(make_engine(options.limits)), sessions_(options.sessions) {}

void state_machine::skip(std::uint64_t log_index) {
  DKV_ASSERT(log_index > applied_index_, log_index, applied_index_);  // each entry once, in log order
  applied_index_ = log_index;
}

apply_result state_machine::apply(std::uint64_t log_index, std::string_view entry) {
  DKV_ASSERT(log_index > applied_index_, log_index, applied_index_);  // each entry once, in log order
  applied_index_ = log_index;
  log_command command;
  if (error e = decode_log_command(entry, command); !e.ok()) {
    apply_result result;
    result.err = std::move(e);
    return result;
  }
  if (command.type == log_command_type::open_session) {
    sessions_.open(log_index);
    apply_result result;
    result.status = apply_status::session_opened;
    result.session = log_index;
    return result;
  }
  return apply_write(log_index, command.write);
}

apply_result state_machine::apply_write(std::uint64_t log_index, const client_write& write) {
  apply_result result;
  result.session = write.session;
  result.sequence = write.sequence;
  session* s = sessions_.find(write.session);
  if (!s) {
    result.status = apply_status::unknown_session;
    result.err = {error_code::unavailable, "session " + std::to_string(write.session) + " is unknown or evicted"};
    return result;
  }
  sessions_.touch(write.session, *s, log_index);

  // The client no longer waits below lowest_unanswered: forget those answers.
  if (write.lowest_unanswered > s->lowest_unanswered) {
    s->lowest_unanswered = write.lowest_unanswered;
    s->results.erase(s->results.begin(), s->results.lower_bound(s->lowest_unanswered));
  }
  if (write.sequence < s->lowest_unanswered) {
    result.status = apply_status::stale_sequence;
    result.err = {error_code::unavailable, "sequence " + std::to_string(write.sequence) + " was already answered"};
    return result;
  }
  // injected bug no_session_dedup: a retry is not answered from the session, so it is applied again.
  if (const auto it = s->results.find(write.sequence);
      it != s->results.end() && !bugs::on(bugs::bug::no_session_dedup)) {
    result.status = apply_status::duplicate;
    result.err = it->second.err;
    result.deleted = it->second.deleted;
    result.index = it->second.index;
    return result;
  }
  if (s->results.size() >= sessions_.limits().max_results_per_session) {
    result.status = apply_status::too_many_pending;
    result.err = {error_code::unavailable, "too many unanswered writes in session " + std::to_string(write.session)};
    return result;
  }

  result.status = apply_status::applied;
  result.err = validate(write.command, *engine_, options_.limits);
  if (result.err.ok()) {
    std::uint64_t index = engine_->WriteIdx() + 1;
    // injected bug raw_index_clock: the store clock jumps to the Raft log index (dKV's way), counting non-writes.
    if (bugs::on(bugs::bug::raw_index_clock)) index = log_index;
    // The store clock only advances: the engine would refuse the write, and
    // the client would hear an internal error for a write that is in the log.
    DKV_ASSERT(index > engine_->WriteIdx(), index, engine_->WriteIdx(), log_index);
    result.err = dkv::apply(write.command, *engine_, index, result.deleted);
    if (result.err.ok()) result.index = index;
    if (index % reclaim_every == 0) engine_->GarbageCollect(reclaim_budget);
  }
  s->results.emplace(write.sequence, cached_result{result.err, result.deleted, result.index});
  return result;
}

std::uint64_t state_machine::sessions_digest() const {
  std::string bytes;
  sessions_.save(bytes);
  return XXH3_64bits(bytes.data(), bytes.size());
}

error state_machine::save(std::string& out) const {
  std::string engine_bytes;
  if (error e = engine_->Save(engine_bytes); !e.ok()) return e;
  out.clear();
  out.append(snapshot_magic, sizeof snapshot_magic);
  byte_writer w(out);
  w.u32(snapshot_version);
  w.u64(applied_index_);
  sessions_.save(out);
  w.u64(engine_bytes.size());
  out.append(engine_bytes);
  w.u64(XXH3_64bits(out.data(), out.size()));
  return {};
}

error state_machine::load(std::string_view snapshot) {
  auto corrupt = [](const std::string& why) { return internal_error("corrupt state machine snapshot: " + why); };
  if (snapshot.size() < sizeof snapshot_magic + 4 + 8 + 8) return corrupt("truncated");
  std::uint64_t checksum;
  std::memcpy(&checksum, snapshot.data() + snapshot.size() - 8, 8);
  if (checksum != XXH3_64bits(snapshot.data(), snapshot.size() - 8)) return corrupt("checksum mismatch");
  if (snapshot.substr(0, sizeof snapshot_magic) != std::string_view(snapshot_magic, sizeof snapshot_magic))
    return corrupt("bad magic");
  std::string_view rest = snapshot.substr(sizeof snapshot_magic, snapshot.size() - sizeof snapshot_magic - 8);
  byte_reader header(rest);
  std::uint32_t version;
  std::uint64_t applied;
  if (!header.u32(version) || !header.u64(applied)) return corrupt("truncated header");
  if (version != snapshot_version) return corrupt("unsupported version " + std::to_string(version));
  rest.remove_prefix(4 + 8);
  session_table sessions(options_.sessions);
  if (error e = sessions.load(rest); !e.ok()) return e;
  byte_reader tail(rest);
  std::uint64_t engine_size;
  std::string_view engine_bytes;
  if (!tail.u64(engine_size) || !tail.raw(engine_size, engine_bytes) || !tail.done())
    return corrupt("engine part does not fit");
  if (error e = engine_->Load(engine_bytes); !e.ok()) return e;  // all or nothing inside the engine
  sessions_ = std::move(sessions);
  applied_index_ = applied;
  return {};
}

}  // namespace dkv::replicated
