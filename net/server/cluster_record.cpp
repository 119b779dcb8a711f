#include "net/server/cluster_record.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "actors/actors.hpp"
#include "store/storage/file_system.hpp"

namespace dkv::net {

namespace {

constexpr std::string_view id_prefix = "dkv cluster ";
constexpr std::string_view members_prefix = "members ";

std::string record_text(const cluster_identity& c) {
  return std::string(id_prefix) + id_text(c.id) + "\n" + std::string(members_prefix) + c.members + "\n";
}

// The id and members of a record; false if it is not one.
bool parse(const std::string& text, std::string& id, std::string& members) {
  const std::size_t first_end = text.find('\n');
  if (first_end == std::string::npos || text.rfind(id_prefix, 0) != 0) return false;
  id = text.substr(id_prefix.size(), first_end - id_prefix.size());
  const std::string rest = text.substr(first_end + 1);
  if (rest.rfind(members_prefix, 0) != 0 || rest.empty() || rest.back() != '\n') return false;
  members = rest.substr(members_prefix.size(), rest.size() - members_prefix.size() - 1);
  return id.size() == 16 && members.find('\n') == std::string::npos;
}

}  // namespace

error check_cluster_record(const std::string& data_dir, const cluster_identity& ours, bool& adopted) {
  adopted = false;
  std::unique_ptr<actors::posix_file_system> files;
  try {
    files = actors::open_data_directory(data_dir);
  } catch (const actors::embed_error& e) {
    return internal_error(std::string(e.what()).substr(5));  // without "dkv: "
  }
  const std::string path = data_dir + "/" + cluster_record_name;
  std::vector<std::string> names;
  if (error e = files->list(names); !e.ok()) return internal_error("cannot list " + data_dir + ": " + e.message());
  if (std::find(names.begin(), names.end(), cluster_record_name) == names.end()) {
    if (error e = storage::replace_file(*files, cluster_record_name, record_text(ours)); !e.ok())
      return internal_error("cannot write " + path + ": " + e.message());
    adopted = true;
    return {};
  }
  std::string text, id, members;
  if (error e = storage::read_file(*files, cluster_record_name, text); !e.ok())
    return invalid_operation("cannot read " + path + ": " + e.message());
  if (!parse(text, id, members))
    return invalid_operation(path + " is not a cluster record (damaged?): if this directory is this member's, "
                             "remove the file and start again with the cluster's --cluster-members and "
                             "--cluster-token");
  if (id == id_text(ours.id)) return {};
  const std::string why =
      members == ours.members
          ? "it was created with the same --cluster-members but another --cluster-token"
          : "it was created with --cluster-members '" + members + "', and this server was given '" + ours.members + "'";
  return invalid_operation("the data directory " + data_dir + " belongs to cluster " + id + ", not to cluster " +
                           id_text(ours.id) + ": " + why +
                           ". Start it with the list and token it was created with (every member's must be the "
                           "same, in the same order), or give it another --data-dir. To move a whole cluster to new "
                           "addresses: stop every member, remove " +
                           cluster_record_name + " from each data directory, start them all with the new list.");
}

}  // namespace dkv::net
