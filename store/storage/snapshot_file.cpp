#include "store/storage/snapshot_file.hpp"

#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dkv::storage {

namespace {

constexpr char magic[8] = {'D', 'K', 'V', 'S', 'F', 'I', 'L', 'E'};
constexpr std::size_t header_size = 8 + 4 + 4 + 8;
constexpr std::size_t trailer_size = 8;
constexpr int read_attempts = 2;

error corrupt(const std::string& name, const std::string& why) {
  return internal_error("corrupt snapshot file " + name + ": " + why);
}

error verify(const std::string& name, const std::string& bytes) {
  if (bytes.size() < header_size + trailer_size) return corrupt(name, "shorter than its header");
  if (std::memcmp(bytes.data(), magic, sizeof magic) != 0) return corrupt(name, "bad magic");
  std::uint32_t version;
  std::uint64_t size, checksum;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&size, bytes.data() + 16, 8);
  std::memcpy(&checksum, bytes.data() + bytes.size() - trailer_size, 8);
  if (version != snapshot_file_version) return corrupt(name, "unsupported version " + std::to_string(version));
  if (size != bytes.size() - header_size - trailer_size) return corrupt(name, "size does not match the file");
  if (checksum != XXH3_64bits(bytes.data(), bytes.size() - trailer_size)) return corrupt(name, "checksum mismatch");
  return {};
}

}  // namespace

error write_snapshot_file(file_system& fs, const std::string& name, std::string_view payload) {
  std::string bytes(header_size, '\0');
  std::memcpy(bytes.data(), magic, sizeof magic);
  const std::uint32_t version = snapshot_file_version;
  const std::uint64_t size = payload.size();
  std::memcpy(bytes.data() + 8, &version, 4);
  std::memcpy(bytes.data() + 16, &size, 8);
  bytes.append(payload);
  const std::uint64_t checksum = XXH3_64bits(bytes.data(), bytes.size());
  bytes.append(reinterpret_cast<const char*>(&checksum), sizeof checksum);
  return replace_file(fs, name, bytes);
}

error read_snapshot_file(file_system& fs, const std::string& name, std::string& payload) {
  std::string bytes;
  error problem;
  for (int attempt = 0; attempt < read_attempts; ++attempt) {
    if (error e = read_file(fs, name, bytes); !e.ok()) return e;
    problem = verify(name, bytes);
    if (problem.ok()) {
      payload.assign(bytes, header_size, bytes.size() - header_size - trailer_size);
      return {};
    }
  }
  return problem;
}

}  // namespace dkv::storage
