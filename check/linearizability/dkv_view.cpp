#include "check/linearizability/dkv_view.hpp"

#include <map>

namespace dkv::check {

dkv_view make_dkv_view(const history& h) {
  dkv_view c;
  std::map<std::string, std::vector<std::size_t>> by_key;
  c.ops.resize(h.operations.size());
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result == outcome::fail) continue;
    dkv_op& op = c.ops[id];
    op.kind = *operation_named(o.f);  // the parser accepted only known names
    op.value = o.f == "get" ? o.result_value.value_or("") : o.value;
    op.expire_in = o.expire_in;
    op.delete_in = o.delete_in;
    op.found = o.found;
    op.known = o.result == outcome::ok;
    if (op.known && !o.index) c.all_indexed = false;
    by_key[o.key].push_back(id);
  }
  for (auto& [key, ids] : by_key) {
    for (std::size_t id : ids) c.ops[id].key = static_cast<std::uint32_t>(c.keys.size());
    c.keys.push_back(key);
    c.ops_by_key.push_back(std::move(ids));
  }
  return c;
}

std::string describe(const history& h, std::size_t id) {
  const operation& o = h.operations[id];
  std::string s = "#" + std::to_string(id) + " " + o.f + "(" + o.key + ") by process " + std::to_string(o.process);
  if (o.index) s += " at index " + std::to_string(*o.index);
  return s;
}

}  // namespace dkv::check
