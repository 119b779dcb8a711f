#pragma once
// The control file's language: what a write to MOUNT/.lazyfs asks for.
//
//   lose-unsynced                      power loss: every unsynced byte of every file is dropped
//   lose-unsynced tear SEED [P]        the same, but first each file's last unsynced write is,
//                                      with probability P (default 1), torn: a prefix of a length
//                                      drawn in [0, length) reaches the backing file (the writes
//                                      before it are lost: if they were before it in the file,
//                                      a hole of zeros is left there)
//   lose-unsynced keep-prefix SEED [P] the same, but what survives, with probability P, is the
//                                      file's dirty bytes up to a random point of their span, in
//                                      offset order: for appends, a prefix of what was appended
//                                      since the last fsync (the simulator's torn tail)
//   sync-all                           writes every file back and fsyncs it (as an unmount does)
//   stats                              nothing; reading the file reports the counters
//
// One command a line; blank lines are ignored.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dkv::lazyfs {

// What a power loss writes of the unsynced data before it drops the rest.
enum class tear_kind {
  none,         // nothing
  last_write,   // a prefix of each file's last write
  dirty_prefix  // a prefix of each file's dirty bytes in offset order
};

struct command {
  enum class kind { lose_unsynced, sync_all, stats };
  kind what = kind::stats;
  tear_kind tear = tear_kind::none;
  std::uint64_t seed = 0;
  double tear_probability = 1.0;
};

// The commands in `text`, or nothing with `error` saying what is wrong.
std::optional<std::vector<command>> parse_commands(std::string_view text, std::string& error);

// SplitMix64: a tear is the same on every machine and standard library for
// the same seed (std:: distributions are not).
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // In [0, bound); bound > 0. The modulo's bias is below 2^-40 for the
  // lengths of writes.
  std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }
  // In [0, 1).
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace dkv::lazyfs
