#include "store/raft/promise_file.hpp"

#include <algorithm>

#include "store/assert.hpp"
#include "store/byte_io.hpp"
#include "store/storage/wal.hpp"

#include <xxhash.h>

namespace dkv::raft {

namespace {

std::string encode(const promise& p) {
  std::string out = "DKVP";
  byte_writer w(out);
  w.u64(p.index);
  w.u64(p.first_segment);
  w.u64(p.last_segment);
  w.u64(XXH3_64bits(out.data(), out.size()));
  return out;
}

bool decode(std::string_view bytes, promise& p) {
  if (bytes.size() != promise_file::record_bytes || bytes.substr(0, 4) != "DKVP") return false;
  byte_reader r(bytes.substr(4));
  std::uint64_t sum = 0;
  return r.u64(p.index) && r.u64(p.first_segment) && r.u64(p.last_segment) && r.u64(sum) &&
         sum == XXH3_64bits(bytes.data(), promise_file::record_bytes - 8);
}

}  // namespace

error promise_file::open(dkv::storage::file_system& fs, std::unique_ptr<promise_file>& out) {
  std::unique_ptr<dkv::storage::file> f;
  if (error e = fs.open(name, dkv::storage::open_mode::create, f); !e.ok()) return e;
  std::string bytes;
  if (error e = f->read(0, static_cast<std::size_t>(f->size()), bytes); !e.ok()) return e;
  promise latest;
  for (std::size_t at = 0; at + record_bytes <= bytes.size(); at += record_bytes) {
    promise p;
    if (decode(std::string_view(bytes).substr(at, record_bytes), p) && p.index >= latest.index) latest = p;
  }
  // A torn last record (a crash during its append) is cut, or every record
  // appended after it would sit off the grid; a long file starts again from
  // its latest record, written and synced before the old file is dropped.
  if (f->size() > rewrite_bytes) {
    if (error e = dkv::storage::replace_file(fs, name, encode(latest), &f); !e.ok()) return e;
  } else if (const std::uint64_t torn = f->size() % record_bytes; torn != 0) {
    if (error e = f->truncate(f->size() - torn); !e.ok()) return e;
  }
  out.reset(new promise_file(std::move(f), latest));
  return {};
}

error promise_file::reset(dkv::storage::file_system& fs, const promise& p) {
  std::unique_ptr<dkv::storage::file> f;
  if (error e = dkv::storage::replace_file(fs, name, encode(p), &f); !e.ok()) return e;
  file_ = std::move(f);
  latest_ = p;
  return {};
}

error promise_file::append(const promise& p) {
  DKV_ASSERT(p.index >= latest_.index, p.index, latest_.index);  // a promise is never taken back
  if (error e = file_->append(encode(p)); !e.ok()) return e;
  latest_ = p;
  return {};
}

std::string broken_promise(const promise& p, index_t log_end, const std::vector<std::uint64_t>& segments) {
  if (p.index == 0) return {};  // nothing promised yet
  std::string out;
  if (log_end < p.index)
    out = "the log ends at index " + std::to_string(log_end) + ", but entries up to index " + std::to_string(p.index) +
          " were committed and durable here: " + std::to_string(p.index - log_end) + " committed entries (" +
          std::to_string(log_end + 1) + ".." + std::to_string(p.index) + ") are lost";
  std::vector<std::uint64_t> missing;
  for (std::uint64_t s = p.first_segment; s <= p.last_segment; ++s)
    if (!std::binary_search(segments.begin(), segments.end(), s)) missing.push_back(s);
  if (!missing.empty())
    out += (out.empty() ? "" : "; ") + dkv::storage::wal::segment_name(missing.front()) +
           (missing.size() > 1 ? " and " + std::to_string(missing.size() - 1) + " later segments are" : " is") +
           " missing";
  return out;
}

}  // namespace dkv::raft
