#include "net/peer/cluster_identity.hpp"

#include <xxhash.h>

#include <cstdio>

#include "net/peer/wire.hpp"

namespace dkv::net {

namespace {

void append_with_length(std::string& out, std::string_view text) {
  char length[8];
  wire::put_u64(length, text.size());
  out.append(length, sizeof length);
  out.append(text);
}

}  // namespace

cluster_identity make_cluster_identity(std::string members, std::string_view token) {
  // The name and its version come first so that a later change of the
  // encoding cannot collide with this one.
  std::string encoded = "dkv cluster identity 1";
  append_with_length(encoded, members);
  append_with_length(encoded, token);
  return {XXH3_64bits(encoded.data(), encoded.size()), std::move(members)};
}

std::string id_text(std::uint64_t id) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

std::string member_entry(std::string_view members, std::uint64_t k) {
  for (std::uint64_t i = 1; !members.empty(); ++i) {
    const std::size_t comma = members.find(',');
    if (i == k) return std::string(members.substr(0, comma));
    if (comma == std::string_view::npos) break;
    members.remove_prefix(comma + 1);
  }
  return "";
}

bool lists_entry(std::string_view members, std::string_view entry) {
  if (entry.empty()) return false;
  for (;;) {
    const std::size_t comma = members.find(',');
    if (members.substr(0, comma) == entry) return true;
    if (comma == std::string_view::npos) return false;
    members.remove_prefix(comma + 1);
  }
}

std::string other_cluster(std::uint64_t their_id, std::string_view their_members, const cluster_identity& ours) {
  const std::string shown =
      "'" + std::string(their_members) + (their_members.size() >= wire::max_members_bytes ? "…'" : "'");
  std::string text = "it belongs to another cluster: ";
  if (their_members == ours.members)
    text += "its members are ours (" + shown + ") but its --cluster-token differs";
  else
    text += "its members are " + shown + ", ours are '" + ours.members + "'";
  return text + " (cluster id " + id_text(their_id) + ", ours " + id_text(ours.id) +
         "); every member must be given the same --cluster-members, in the same order, and the same --cluster-token";
}

}  // namespace dkv::net
