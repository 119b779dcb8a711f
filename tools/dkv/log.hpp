#pragma once
// The dkv tool's log: one line per event on stderr, "2026/12/02 18:20:41 INFO  message",
// filtered by --log-level. Only the tool logs; the libraries report through
// return values and callbacks.

#include <atomic>
#include <ctime>
#include <cstdio>
#include <string>
#include <string_view>

namespace dkv::tools::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3 };

inline std::atomic<int>& threshold() {
  static std::atomic<int> value{static_cast<int>(level::info)};
  return value;
}

// False for a name that is not a level.
inline bool set_level(std::string_view name) {
  level l;
  if (name == "debug")
    l = level::debug;
  else if (name == "info")
    l = level::info;
  else if (name == "warn" || name == "warning")
    l = level::warn;
  else if (name == "error")
    l = level::error;
  else
    return false;
  threshold() = static_cast<int>(l);
  return true;
}

inline void write(level l, const std::string& text) {
  if (static_cast<int>(l) < threshold()) return;
  static constexpr const char* names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  localtime_r(&now, &parts);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &parts);
  std::fprintf(stderr, "%s %s %s\n", stamp, names[static_cast<int>(l)], text.c_str());
}

inline void debug(const std::string& text) { write(level::debug, text); }
inline void info(const std::string& text) { write(level::info, text); }
inline void warn(const std::string& text) { write(level::warn, text); }
inline void error(const std::string& text) { write(level::error, text); }

}  // namespace dkv::tools::log
