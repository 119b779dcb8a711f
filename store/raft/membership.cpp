#include "store/raft/membership.hpp"

#include <algorithm>

#include "store/byte_io.hpp"

namespace dkv::raft {

namespace {

bool holds(const std::vector<node_id>& ids, node_id id) { return std::binary_search(ids.begin(), ids.end(), id); }

void insert_sorted(std::vector<node_id>& ids, node_id id) {
  ids.insert(std::lower_bound(ids.begin(), ids.end(), id), id);
}

void erase(std::vector<node_id>& ids, node_id id) { ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end()); }

void put_ids(byte_writer& out, const std::vector<node_id>& ids) {
  out.u32(static_cast<std::uint32_t>(ids.size()));
  for (node_id id : ids) out.u64(id);
}

bool get_ids(byte_reader& in, std::vector<node_id>& ids) {
  std::uint32_t count = 0;
  if (!in.u32(count) || count > in.remaining() / sizeof(node_id)) return false;
  ids.resize(count);
  for (auto& id : ids)
    if (!in.u64(id) || id == no_node) return false;
  return std::is_sorted(ids.begin(), ids.end()) && std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}

}  // namespace

bool membership::is_voter(node_id id) const noexcept { return holds(voters, id); }
bool membership::is_learner(node_id id) const noexcept { return holds(learners, id); }

std::string encode_membership(const membership& config) {
  std::string out;
  byte_writer writer(out);
  put_ids(writer, config.voters);
  put_ids(writer, config.learners);
  return out;
}

std::optional<membership> decode_membership(std::string_view bytes) {
  membership config;
  byte_reader reader(bytes);
  if (!get_ids(reader, config.voters) || !get_ids(reader, config.learners) || reader.remaining() != 0)
    return std::nullopt;
  for (node_id id : config.learners)
    if (config.is_voter(id)) return std::nullopt;
  return config;
}

std::optional<membership> apply_change(const membership& config, change_kind kind, node_id id) {
  if (id == no_node) return std::nullopt;
  membership next = config;
  switch (kind) {
    case change_kind::add_server:
    case change_kind::add_learner:
      if (config.contains(id)) return std::nullopt;
      insert_sorted(next.learners, id);
      return next;
    case change_kind::remove:
      if (!config.contains(id) || (config.is_voter(id) && config.voters.size() == 1)) return std::nullopt;
      erase(next.voters, id);
      erase(next.learners, id);
      return next;
  }
  return std::nullopt;
}

membership promote(const membership& config, node_id id) {
  membership next = config;
  erase(next.learners, id);
  if (!next.is_voter(id)) insert_sorted(next.voters, id);
  return next;
}

}  // namespace dkv::raft
