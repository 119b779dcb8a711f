#include "net/server/cluster_config.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

namespace dkv::net {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

template <class Int>
bool parse_number(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

error bad(std::string what) { return invalid_operation(std::move(what)); }

error parse_kind(std::string_view text, shard_kind& kind) {
  if (text == "lstore")
    kind = shard_kind::lstore;
  else if (text == "dstore")
    kind = shard_kind::dstore;
  else
    return bad("unknown store kind '" + std::string(text) + "' (lstore or dstore)");
  return {};
}

}  // namespace

std::string shard_spec::text() const {
  const std::string store = kind == shard_kind::lstore ? "lstore" : "dstore";
  return std::to_string(id) + "=" + (lock_manager ? "lockmgr(" + store + ")" : store);
}

error parse_shards(std::string_view text, std::vector<shard_spec>& out) {
  out.clear();
  if (trim(text).empty()) return bad("--shards is empty (e.g. \"100=lstore,200=dstore,300=lockmgr(dstore)\")");
  std::set<std::uint64_t> ids;
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    // dKV writes ID=KIND; its README (and this project's first docs) ID:KIND.
    const std::size_t colon = item.find_first_of("=:");
    if (colon == std::string_view::npos)
      return bad("shard '" + std::string(item) + "': expected ID=KIND, e.g. 100=lstore");
    shard_spec spec;
    if (!parse_number(item.substr(0, colon), spec.id))
      return bad("shard '" + std::string(item) + "': the id must be a number");
    std::string_view kind = item.substr(colon + 1);
    if (kind.starts_with("lockmgr(") && kind.ends_with(")")) {
      spec.lock_manager = true;
      kind = kind.substr(8, kind.size() - 9);
    }
    if (error e = parse_kind(kind, spec.kind); !e.ok()) return bad("shard '" + std::string(item) + "': " + e.message());
    if (!ids.insert(spec.id).second) return bad("shard id " + std::to_string(spec.id) + " is given twice");
    out.push_back(spec);
  }
  return {};
}

error parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("'" + std::string(text) + "': expected host:port");
  std::string_view h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (!parse_number(text.substr(colon + 1), port))
    return bad("'" + std::string(text) + "': the port must be a number from 0 to 65535");
  host = std::string(h);
  return {};
}

error parse_members(std::string_view text, std::vector<member_spec>& out) {
  out.clear();
  if (trim(text).empty()) return bad("--cluster-members is empty (e.g. \"node-1=127.0.0.1:7001\")");
  std::set<std::string, std::less<>> names;
  std::map<std::string, std::string, std::less<>> at;  // "host:port" as written -> the member there
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0)
      return bad("member '" + std::string(item) + "': expected NAME=HOST:PORT");
    member_spec m;
    m.name = std::string(item.substr(0, equals));
    if (error e = parse_host_port(item.substr(equals + 1), m.host, m.port); !e.ok())
      return bad("member " + m.name + ": " + e.message());
    if (m.port == 0) return bad("member " + m.name + ": port 0 cannot be reached by its peers");
    if (!names.insert(m.name).second) return bad("member " + m.name + " is given twice");
    const std::string address = m.host + ":" + std::to_string(m.port);
    if (const auto [there, fresh] = at.emplace(address, m.name); !fresh)
      return bad("members " + there->second + " and " + m.name + " are both at " + address);
    out.push_back(std::move(m));
  }
  return {};
}

std::string members_text(const std::vector<member_spec>& members) {
  std::string text;
  for (const member_spec& m : members) {
    const bool v6 = m.host.find(':') != std::string::npos;
    text +=
        (text.empty() ? "" : ",") + m.name + "=" + (v6 ? "[" + m.host + "]" : m.host) + ":" + std::to_string(m.port);
  }
  return text;
}

error member_number(const std::vector<member_spec>& members, std::string_view replica_id, std::uint64_t& out) {
  for (std::size_t i = 0; i < members.size(); ++i)
    if (members[i].name == replica_id) {
      out = i + 1;
      return {};
    }
  std::string names;
  for (const member_spec& m : members) names += (names.empty() ? "" : ", ") + m.name;
  return bad("--replica-id '" + std::string(replica_id) + "' is not among --cluster-members (" + names + ")");
}

namespace {

// The numeric endpoints a member's host:port resolves to ("127.0.0.1:7001",
// "[::1]:7001"), or an error naming the member and its host.
error resolve(const member_spec& m, std::set<std::string>& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int status = ::getaddrinfo(m.host.c_str(), std::to_string(m.port).c_str(), &hints, &found);
  if (status != 0)
    return bad("member " + m.name + ": host '" + m.host + "' does not resolve (" +
               (status == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(status)) + ")");
  for (const addrinfo* a = found; a; a = a->ai_next) {
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (::getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof host, port, sizeof port,
                      NI_NUMERICHOST | NI_NUMERICSERV) != 0)
      continue;
    const bool v6 = a->ai_family == AF_INET6;
    out.insert((v6 ? "[" : "") + std::string(host) + (v6 ? "]:" : ":") + port);
  }
  ::freeaddrinfo(found);
  return {};
}

}  // namespace

error check_member_addresses(const std::vector<member_spec>& members) {
  std::map<std::string, const member_spec*> at;  // a resolved endpoint -> the first member there
  for (const member_spec& m : members) {
    std::set<std::string> endpoints;
    if (error e = resolve(m, endpoints); !e.ok()) return e;
    for (const std::string& endpoint : endpoints)
      if (const auto [there, fresh] = at.emplace(endpoint, &m); !fresh && there->second != &m)
        return bad("members " + there->second->name + " (" + there->second->host + ":" +
                   std::to_string(there->second->port) + ") and " + m.name + " (" + m.host + ":" +
                   std::to_string(m.port) + ") are one address, " + endpoint);
  }
  return {};
}

}  // namespace dkv::net
