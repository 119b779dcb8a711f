// RapidCheck: random interleavings of several clients' writes, retries,
// acknowledgements, leader no-ops and snapshot restores. The state machine
// must equal an lstore that applied every distinct (session, sequence) once,
// in first-arrival order — same results, same indexes, same engine digest.

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <map>

#include "store/lstore.hpp"
#include "store/replicated/log_command.hpp"
#include "store/replicated/state_machine.hpp"

using namespace dkv;
using namespace dkv::replicated;

namespace {

enum class action_kind { open_session, write, retry, acknowledge, noop, restore };

struct action {
  action_kind kind;
  std::uint32_t client;  // picks a session, modulo those open
  std::uint32_t pick;    // picks a sequence number to retry / acknowledge up to
  operation_kind op;
  std::uint8_t key;
  std::uint8_t value;
  std::uint8_t expire_in, delete_in;
};

std::ostream& operator<<(std::ostream& os, const action& a) {
  static const char* names[] = {"open", "write", "retry", "ack", "noop", "restore"};
  return os << names[static_cast<int>(a.kind)] << "(c" << a.client << " p" << a.pick << " op" << int(a.op) << " k"
            << int(a.key) << " v" << int(a.value) << " e" << int(a.expire_in) << " d" << int(a.delete_in) << ")";
}

struct client_state {
  std::uint64_t session = 0;
  std::uint64_t next_sequence = 1;
  std::uint64_t lowest_unanswered = 1;
  std::map<std::uint64_t, write_command> sent;  // by sequence; views into `keys`/`values`
};

const std::string keys[] = {"a", "b", "c", ""};

// The same write through the IStore interface.
delete_if_value_result apply_to(lstore& store, const write_command& c) {
  auto plain = [](write_result w) { return delete_if_value_result{std::move(w.err), false, w.index}; };
  switch (c.kind) {
    case operation_kind::set: return plain(store.Set(c.key, c.value));
    case operation_kind::set_e: return plain(store.SetE(c.key, c.value, c.expire_in, c.delete_in));
    case operation_kind::set_e_if_unset: return plain(store.SetEIfUnset(c.key, c.value, c.expire_in, c.delete_in));
    case operation_kind::expire: return plain(store.Expire(c.key));
    case operation_kind::remove: return plain(store.Delete(c.key));
    case operation_kind::remove_if_value: return store.DeleteIfValue(c.key, c.value);
    case operation_kind::get:
    case operation_kind::has:
    case operation_kind::info: break;  // not writes: no command carries them
  }
  return {};
}
const std::string values[] = {"x", "y", ""};

}  // namespace

namespace rc {
template <>
struct Arbitrary<action> {
  static Gen<action> arbitrary() {
    return gen::build<action>(
        gen::set(&action::kind, gen::weightedElement<action_kind>({{2, action_kind::open_session},
                                                                   {10, action_kind::write},
                                                                   {4, action_kind::retry},
                                                                   {2, action_kind::acknowledge},
                                                                   {1, action_kind::noop},
                                                                   {1, action_kind::restore}})),
        gen::set(&action::client, gen::inRange<std::uint32_t>(0, 3)),
        gen::set(&action::pick, gen::inRange<std::uint32_t>(0, 8)),
        gen::set(&action::op, gen::map(gen::inRange(1, 7), [](int k) { return static_cast<operation_kind>(k); })),
        gen::set(&action::key, gen::inRange<std::uint8_t>(0, 4)),
        gen::set(&action::value, gen::inRange<std::uint8_t>(0, 3)),
        gen::set(&action::expire_in, gen::inRange<std::uint8_t>(0, 4)),
        gen::set(&action::delete_in, gen::inRange<std::uint8_t>(0, 6)));
  }
};
}  // namespace rc

TEST_CASE("state machine equals lstore applying each distinct write once", "[replicated][property]") {
  rc::prop("random clients with retries, acknowledgements and restores", [](const std::vector<action>& actions) {
    auto machine = std::make_unique<state_machine>();
    lstore reference;
    std::map<std::pair<std::uint64_t, std::uint64_t>, delete_if_value_result> first_results;
    std::vector<client_state> clients;
    std::uint64_t log_index = 0;
    std::string bytes;

    auto send = [&](client_state& c, std::uint64_t sequence) {
      const write_command& command = c.sent.at(sequence);
      encode_client_write({c.session, sequence, c.lowest_unanswered, command}, bytes);
      const apply_result r = machine->apply(++log_index, bytes);
      const auto id = std::make_pair(c.session, sequence);
      if (!first_results.count(id)) {
        RC_ASSERT(r.status == apply_status::applied);
        const delete_if_value_result ref = apply_to(reference, command);  // in arrival order
        RC_ASSERT(r.err == ref.err);
        RC_ASSERT(r.index == ref.index);
        RC_ASSERT(r.deleted == ref.deleted);
        first_results[id] = ref;
      } else {
        RC_ASSERT(r.status == apply_status::duplicate);
        const auto& first = first_results.at(id);
        RC_ASSERT(r.index == first.index);
        RC_ASSERT(r.deleted == first.deleted);
      }
    };

    for (const action& a : actions) {
      client_state* c = clients.empty() ? nullptr : &clients[a.client % clients.size()];
      switch (a.kind) {
        case action_kind::open_session: {
          encode_open_session(bytes);
          const apply_result r = machine->apply(++log_index, bytes);
          RC_ASSERT(r.status == apply_status::session_opened);
          clients.push_back({r.session, 1, 1, {}});
          break;
        }
        case action_kind::write:
          if (!c) break;
          c->sent[c->next_sequence] = {a.op, keys[a.key], values[a.value], a.expire_in, a.delete_in};
          send(*c, c->next_sequence++);
          break;
        case action_kind::retry: {
          if (!c || c->sent.empty()) break;
          auto it = c->sent.lower_bound(c->lowest_unanswered);
          if (it == c->sent.end()) break;
          for (std::uint32_t i = 0; i < a.pick && std::next(it) != c->sent.end(); ++i) ++it;
          send(*c, it->first);
          break;
        }
        case action_kind::acknowledge:
          if (!c) break;
          c->lowest_unanswered = std::min<std::uint64_t>(c->next_sequence, c->lowest_unanswered + a.pick);
          break;
        case action_kind::noop: machine->skip(++log_index); break;
        case action_kind::restore: {
          RC_ASSERT(machine->save(bytes).ok());
          auto restored = std::make_unique<state_machine>();
          RC_ASSERT(restored->load(bytes).ok());
          machine = std::move(restored);
          break;
        }
      }
    }
    RC_ASSERT(machine->engine().Digest() == reference.engine().Digest());
    RC_ASSERT(machine->engine().WriteIdx() == reference.engine().WriteIdx());
  });
}
