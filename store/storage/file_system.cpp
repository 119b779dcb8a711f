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

error replace_file(file_system& fs, const std::string& name, std::string_view bytes, std::unique_ptr<file>* written) {
  const std::string temporary = name + ".tmp";
  std::unique_ptr<file> f;
  if (error e = fs.open(temporary, open_mode::create, f); !e.ok()) return e;
  if (f->size() != 0)
    if (error e = f->truncate(0); !e.ok()) return e;  // a leftover of a crashed attempt
  if (error e = f->append(bytes); !e.ok()) return e;
  if (error e = f->sync(); !e.ok()) return e;
  if (error e = fs.rename(temporary, name); !e.ok()) return e;
  if (error e = fs.sync_directory(); !e.ok()) return e;
  if (written) *written = std::move(f);
  return {};
}

bool valid_file_name(std::string_view name) noexcept {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace dkv::storage
