#include "store/storage/file_system.hpp"

namespace dkv::storage {

error sync_all(const file_system::shared_files& files) {
  for (const auto& f : files)
    if (error e = f->sync(); !e.ok()) return e;
  return {};
}

void file_system::sync_in_background(shared_files files, sync_done done) { done(sync_all(files)); }

error read_file(file_system& fs, const std::string& name, std::string& out) {
  std::unique_ptr<file> f;
  if (error e = fs.open(name, open_mode::existing, f); !e.ok()) return e;
  return f->read(0, static_cast<std::size_t>(f->size()), out);
}

bool valid_file_name(std::string_view name) noexcept {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace dkv::storage
