#pragma once
// What a part of dkv has to say while it runs, and how loudly: a replica
// (damaged storage, no leader), a listener (out of descriptors), the peers
// (another cluster). The libraries do not log; the program decides where a
// report goes (dkv serve: its log).

#include <cstdint>
#include <functional>
#include <string>

namespace dkv::actors {

enum class report_level : std::uint8_t { info, warn, error };
using report_sink = std::function<void(report_level, const std::string&)>;

}  // namespace dkv::actors
