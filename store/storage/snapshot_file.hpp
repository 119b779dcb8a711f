#pragma once
// Snapshot files: one state-machine snapshot (engine bytes and whatever the
// caller adds) per file, written so that a crash at any point leaves either
// the previous file or the new one, whole:
//   write "<name>.tmp", sync it, rename it over <name>, sync the directory.
//
// Layout: "DKVSFILE" | u32 version | u32 flags(0) | u64 payload size | payload | u64 XXH3-64 of all before it

#include <string>
#include <string_view>

#include "store/storage/file_system.hpp"

namespace dkv::storage {

inline constexpr std::uint32_t snapshot_file_version = 1;

error write_snapshot_file(file_system& fs, const std::string& name, std::string_view payload);

// Reads and verifies a snapshot file (re-reading once if the checksum fails,
// as reads may fail transiently); a corrupt file is an error, never applied.
error read_snapshot_file(file_system& fs, const std::string& name, std::string& payload);

}  // namespace dkv::storage
