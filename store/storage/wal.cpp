#include "store/storage/wal.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "store/assert.hpp"
#include "store/bugs.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dkv::storage {

namespace {

constexpr std::string_view segment_prefix = "wal-";
constexpr std::string_view segment_suffix = ".log";
constexpr std::size_t segment_digits = 20;
const std::string repair_marker = "wal-repair-needed";

bool parse_segment_name(const std::string& name, std::uint64_t& segment) {
  if (name.size() != segment_prefix.size() + segment_digits + segment_suffix.size()) return false;
  if (!name.starts_with(segment_prefix) || !name.ends_with(segment_suffix)) return false;
  const char* first = name.data() + segment_prefix.size();
  const auto [end, ec] = std::from_chars(first, first + segment_digits, segment);
  return ec == std::errc() && end == first + segment_digits;
}

struct record_header {
  std::uint32_t payload_size;
  std::uint8_t type;
  std::uint64_t payload_checksum;
};

std::uint64_t header_checksum(const char* header, std::uint64_t segment) {
  return XXH3_64bits_withSeed(header, 16, segment);
}

void encode_record(std::uint64_t segment, std::uint8_t type, std::string_view payload, std::string& out) {
  out.resize(wal::header_size + payload.size());
  char* p = out.data();
  const auto size = static_cast<std::uint32_t>(payload.size());
  const std::uint64_t payload_sum = XXH3_64bits_withSeed(payload.data(), payload.size(), segment);
  std::memset(p, 0, wal::header_size);
  std::memcpy(p, &size, 4);
  p[4] = static_cast<char>(type);
  std::memcpy(p + 8, &payload_sum, 8);
  const std::uint64_t header_sum = header_checksum(p, segment);
  std::memcpy(p + 16, &header_sum, 8);
  if (!payload.empty()) std::memcpy(p + wal::header_size, payload.data(), payload.size());
}

// What scanning one segment found.
enum class segment_end { clean, torn, damaged };

struct segment_scan {
  segment_end end = segment_end::clean;
  std::uint64_t valid_bytes = 0;  // offset just past the last valid record
  std::string problem;
};

error scan_segment(file& f, std::uint64_t segment, std::uint32_t max_record_bytes, std::vector<wal_record>& records,
                   segment_scan& scan) {
  const std::uint64_t size = f.size();
  std::string header, payload;
  std::uint64_t offset = 0;
  auto stop = [&](segment_end end, std::string why) {
    scan.end = end;
    scan.problem = wal::segment_name(segment) + " at byte " + std::to_string(offset) + ": " + std::move(why);
  };
  // injected bug wal_accepts_torn: a record ending the segment is kept though torn or failing its checksum.
  const bool accept_torn = bugs::on(bugs::bug::wal_accepts_torn);
  while (offset < size) {
    if (size - offset < wal::header_size) {
      if (accept_torn) {
        offset = size;
        break;
      }
      stop(segment_end::torn, "record header cut short");
      break;
    }
    bool valid = false;
    if (error e = read_verified(f, offset, wal::header_size, header, valid,
                                [&](const std::string& h) {
                                  std::uint64_t stored;
                                  std::memcpy(&stored, h.data() + 16, 8);
                                  return stored == header_checksum(h.data(), segment);
                                });
        !e.ok())
      return e;
    if (!valid) {
      stop(segment_end::damaged, "record header checksum mismatch");
      break;
    }
    record_header h;
    std::memcpy(&h.payload_size, header.data(), 4);
    h.type = static_cast<std::uint8_t>(header[4]);
    std::memcpy(&h.payload_checksum, header.data() + 8, 8);
    if (h.payload_size > max_record_bytes) {
      stop(segment_end::damaged, "record size " + std::to_string(h.payload_size) + " over the limit");
      break;
    }
    if (size - offset - wal::header_size < h.payload_size) {
      if (accept_torn) {
        if (error e = f.read(offset + wal::header_size, size - offset - wal::header_size, payload); !e.ok()) return e;
        records.push_back({segment, h.type, std::move(payload)});
        offset = size;
        break;
      }
      stop(segment_end::torn, "record payload cut short");
      break;
    }
    if (error e = read_verified(f, offset + wal::header_size, h.payload_size, payload, valid,
                                [&](const std::string& p) {
                                  return XXH3_64bits_withSeed(p.data(), p.size(), segment) == h.payload_checksum;
                                });
        !e.ok())
      return e;
    if (!valid && !(accept_torn && offset + wal::header_size + h.payload_size == size)) {
      stop(segment_end::damaged, "record payload checksum mismatch");
      break;
    }
    records.push_back({segment, h.type, std::move(payload)});
    payload.clear();
    offset += wal::header_size + h.payload_size;
  }
  scan.valid_bytes = offset;
  return {};
}

}  // namespace

std::string wal::segment_name(std::uint64_t segment) {
  std::string digits = std::to_string(segment);
  return std::string(segment_prefix) + std::string(segment_digits - digits.size(), '0') + digits +
         std::string(segment_suffix);
}

error wal::open(file_system& fs, const wal_options& options, std::unique_ptr<wal>& out, wal_recovery& recovered) {
  recovered = {};
  std::unique_ptr<wal> log(new wal(fs, options));
  std::vector<std::string> names;
  if (error e = fs.list(names); !e.ok()) return e;
  for (const auto& name : names) {
    std::uint64_t segment;
    if (parse_segment_name(name, segment)) log->segments_.push_back(segment);
    if (name == repair_marker) {
      log->damaged_ = true;
      recovered.problem = "an earlier recovery found damage that is not repaired yet";
    }
  }
  std::sort(log->segments_.begin(), log->segments_.end());

  for (std::size_t i = 0; i < log->segments_.size(); ++i) {
    const std::uint64_t segment = log->segments_[i];
    const bool last = i + 1 == log->segments_.size();
    std::unique_ptr<file> f;
    if (error e = fs.open(segment_name(segment), open_mode::existing, f); !e.ok()) return e;
    segment_scan scan;
    if (error e = scan_segment(*f, segment, options.max_record_bytes, recovered.records, scan); !e.ok()) return e;
    if (scan.end == segment_end::clean && !last) continue;
    if (scan.end == segment_end::torn && last) {
      recovered.torn_bytes = f->size() - scan.valid_bytes;
    } else if (scan.end != segment_end::clean) {
      // Damage, or a cut-short record before the last segment (which was
      // synced before the next one began): synced records may be lost.
      recovered.damaged = true;
      recovered.problem = scan.problem;
      if (error e = log->mark_damaged(); !e.ok()) return e;
      for (std::size_t j = i + 1; j < log->segments_.size(); ++j)
        if (error e = fs.remove(segment_name(log->segments_[j])); !e.ok()) return e;
      log->segments_.resize(i + 1);
      if (error e = fs.sync_directory(); !e.ok()) return e;
    }
    if (scan.valid_bytes < f->size())
      if (error e = f->truncate(scan.valid_bytes); !e.ok()) return e;
    log->file_ = std::move(f);
    log->segment_ = segment;
    break;
  }
  if (!log->file_)
    if (error e = log->start_segment(1); !e.ok()) return e;
  recovered.damaged = recovered.damaged || log->damaged_;
  out = std::move(log);
  return {};
}

error wal::start_segment(std::uint64_t segment) {
  // Replay reads segments by number: a new one must come after every other.
  DKV_ASSERT(segments_.empty() || segment > segments_.back(), segment, segments_.back());
  std::unique_ptr<file> f;
  if (error e = fs_.open(segment_name(segment), open_mode::create, f); !e.ok()) return e;
  if (f->size() != 0)
    if (error e = f->truncate(0); !e.ok()) return e;
  // The new name must be durable before anything synced into it counts.
  if (error e = fs_.sync_directory(); !e.ok()) return e;
  file_ = std::move(f);
  segment_ = segment;
  segments_.push_back(segment);
  return {};
}

error wal::append(std::uint8_t type, std::string_view payload) {
  if (payload.size() > options_.max_record_bytes)
    return invalid_operation("WAL record of " + std::to_string(payload.size()) + " bytes is over the limit");
  if (file_->size() >= options_.segment_bytes) {
    std::uint64_t ignored;
    if (error e = rotate(ignored); !e.ok()) return e;
  }
  encode_record(segment_, type, payload, pending_);
  return file_->append(pending_);
}

error wal::sync() { return file_->sync(); }

error wal::rotate(std::uint64_t& new_segment) {
  if (error e = sync(); !e.ok()) return e;
  if (error e = start_segment(segment_ + 1); !e.ok()) return e;
  new_segment = segment_;
  return {};
}

error wal::remove_segments_before(std::uint64_t segment) {
  std::vector<std::uint64_t> kept;
  for (std::uint64_t s : segments_) {
    if (s < segment && s != segment_) {
      if (error e = fs_.remove(segment_name(s)); !e.ok()) return e;
    } else {
      kept.push_back(s);
    }
  }
  segments_.swap(kept);
  return fs_.sync_directory();
}

error wal::mark_damaged() {
  std::unique_ptr<file> marker;
  if (error e = fs_.open(repair_marker, open_mode::create, marker); !e.ok()) return e;
  if (error e = marker->sync(); !e.ok()) return e;
  if (error e = fs_.sync_directory(); !e.ok()) return e;
  damaged_ = true;
  return {};
}

error wal::clear_damage() {
  if (!damaged_) return {};
  if (error e = fs_.remove(repair_marker); !e.ok()) return e;
  if (error e = fs_.sync_directory(); !e.ok()) return e;
  damaged_ = false;
  return {};
}

}  // namespace dkv::storage
