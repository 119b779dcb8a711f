#pragma once
// An accept loop's answer to running out of descriptors or kernel memory
// (EMFILE, ENFILE, ENOBUFS, ENOMEM). Accepting again at once would fail
// again at once — the connection stays in the listen backlog, so the
// listener stays ready — and the loop would spin at a full core while no new
// client is served and nothing says why. Instead the listener pauses, 10 ms
// at first and doubling up to 1 s while the shortage lasts; it reports once
// when it starts pausing and once when an accept works again, and the
// connections it has are served meanwhile. Used by the protocol server's
// listener (net/server) and the peer listener (net/peer).

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "actors/report.hpp"

namespace dkv::net {

using actors::report_level;
using actors::report_sink;

class accept_backoff {
 public:
  static constexpr std::chrono::milliseconds first_pause{10}, longest_pause{1000};

  // A shortage that only closing something ends (another error, such as a
  // connection reset before it was accepted, concerns that connection only).
  static bool is_shortage(const boost::system::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return false;
    const int e = ec.value();
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
  }

  // After a shortage: how long to wait before the next accept. The report
  // of `listener` ("clients on tcp 0.0.0.0:8080") if this starts a pause.
  std::chrono::milliseconds pause(const boost::system::error_code& ec, const std::string& listener,
                                  std::uint64_t open_connections, const report_sink& report) {
    if (pause_.count() == 0) {
      since_ = std::chrono::steady_clock::now();
      const bool descriptors = ec.value() == EMFILE || ec.value() == ENFILE;
      if (report)
        report(report_level::warn,
               listener + ": cannot accept a connection (" + ec.message() + ") with " +
                   std::to_string(open_connections) + " connections open; not accepting for now, trying again after " +
                   std::to_string(first_pause.count()) + " ms, then less often (up to every " +
                   std::to_string(longest_pause.count() / 1000) +
                   (descriptors ? " s); raise the descriptor limit (ulimit -n) or close connections" : " s)"));
    }
    pause_ = std::clamp(pause_ * 2, first_pause, longest_pause);
    return pause_;
  }

  // After an accept that worked: the report if it ends a pause.
  void accepted(const std::string& listener, std::uint64_t open_connections, const report_sink& report) {
    if (pause_.count() == 0) return;
    pause_ = {};
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
    char after[32];
    std::snprintf(after, sizeof after, "%.1f", seconds);
    if (report)
      report(report_level::info, listener + ": accepting again after " + after +
                                     " s (open connections: " + std::to_string(open_connections) + ")");
  }

 private:
  std::chrono::milliseconds pause_{0};  // 0: not paused
  std::chrono::steady_clock::time_point since_;
};

}  // namespace dkv::net
