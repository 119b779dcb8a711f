// dkv-check: is a history linearizable?
//
//   dkv-check [--model M] [--no-split] [--timeout S] [--html OUT] [-v] FILE...
//
// One line per file — "FILE: linearizable", "FILE: not linearizable",
// "FILE: unknown" or "FILE: unreadable (line N: why)" — and the exit code:
// 1 if any file is not linearizable, else 3 if any is unreadable, else 2 if
// any is unknown (or the usage is wrong), else 0.
//
// A file that holds no history at all — a directory, a file that cannot be
// opened, an empty or blank one — is bad usage, not an empty history (which
// would be linearizable): each such file is named on stderr ("dkv-check:
// FILE: is a directory") and the exit code is 2, before any file is checked
// (a pipe is judged as it is read: then 2 unless a worse verdict comes).

#include <CLI/CLI.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "check/input_file.hpp"
#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"
#include "check/report/html_report.hpp"

namespace {

using namespace dkv::check;

// Sets `cancel` once `seconds` of wall time pass, unless stopped first.
class watchdog {
 public:
  watchdog(double seconds, std::atomic<bool>& cancel) {
    if (seconds <= 0) return;
    thread_ = std::thread([this, seconds, &cancel] {
      std::unique_lock lock(mutex_);
      if (!done_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) cancel = true;
    });
  }
  ~watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    done_cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string report_path(const std::string& base, std::size_t file, std::size_t files) {
  if (files == 1) return base;
  const std::size_t dot = base.rfind('.');
  const std::string suffix = "-" + std::to_string(file + 1);
  return dot == std::string::npos ? base + suffix : base.substr(0, dot) + suffix + base.substr(dot);
}

void print_details(const history& h, const check_report& r) {
  if (!r.explanation.empty()) std::printf("  %s\n", r.explanation.c_str());
  if (!r.part_ops.empty())
    std::printf("  part %s: %zu operations, longest linearizable prefix %zu\n",
                r.part.empty() ? "(whole history)" : ("'" + r.part + "'").c_str(), r.part_ops.size(),
                r.longest_prefix.size());
  if (r.stuck) {
    const operation& o = h.operations[*r.stuck];
    std::printf("  first operation that cannot be placed: #%zu %s by process %u (line %zu)\n", *r.stuck, o.f.c_str(),
                o.process, o.line);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dkv-check: checks histories for linearizability"};
  std::vector<std::string> files;
  std::string model_text = "auto";
  bool no_split = false, verbose = false;
  double timeout = 0;
  std::string html;
  app.add_option("files", files, "History files (dkv JSON lines, Jepsen register logs, EDN kv logs)")->required();
  app.add_option("--model", model_text, "auto, dkv, register or kv (auto: from the file's format)")
      ->check(CLI::IsMember({"auto", "dkv", "register", "kv"}));
  app.add_flag("--no-split", no_split, "Check each history as one, not split by key");
  app.add_option("--timeout", timeout, "Wall-clock seconds per file before the answer is 'unknown'")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--html", html, "Write an HTML report (several files: OUT-1.html, OUT-2.html, ...)");
  app.add_flag("-v,--verbose", verbose, "Explain failures");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  // Every bad input is named before anything is checked.
  bool bad_input = false;
  for (const std::string& file : files)
    if (const std::string why = input_problem(file); !why.empty()) {
      std::fprintf(stderr, "dkv-check: %s: %s\n", file.c_str(), why.c_str());
      bad_input = true;
    }
  if (bad_input) return 2;

  check_options options;
  options.model = *parse_model_kind(model_text);
  options.split = !no_split;
  bool any_failed = false, any_unreadable = false, any_unknown = false;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    // A pipe (`dkv-check <(zcat h.jsonl.gz)`) is judged only as it is read.
    std::string text, why;
    if (!read_input_file(file, text, why)) {
      std::fprintf(stderr, "dkv-check: %s: %s\n", file.c_str(), why.c_str());
      bad_input = true;
      continue;
    }
    history h;
    parse_error error;
    std::optional<history_format> forced;
    if (options.model == model_kind::register_) forced = history_format::jepsen_register;
    if (options.model == model_kind::kv) forced = history_format::edn_kv;
    if (options.model == model_kind::dkv) forced = history_format::dkv_json;
    if (!parse_history(text, h, error, forced)) {
      std::printf("%s: unreadable (line %zu: %s)\n", file.c_str(), error.line, error.reason.c_str());
      any_unreadable = true;
      continue;
    }
    std::atomic<bool> cancel{false};
    check_report report;
    {
      watchdog dog(timeout, cancel);
      check_options own = options;
      own.budget.cancel = &cancel;
      report = check_history(h, own);
    }
    const char* verdict_text = report.result == verdict::linearizable       ? "linearizable"
                               : report.result == verdict::not_linearizable ? "not linearizable"
                                                                            : "unknown";
    std::printf("%s: %s\n", file.c_str(), verdict_text);
    if (verbose && report.result != verdict::linearizable) print_details(h, report);
    any_failed |= report.result == verdict::not_linearizable;
    any_unknown |= report.result == verdict::unknown;
    if (!html.empty()) {
      const std::string path = report_path(html, i, files.size());
      std::ofstream out(path, std::ios::binary);
      out << render_html_report(h, {linearizability_verdict(h, report)}, report, file);
      if (!out) {
        std::fprintf(stderr, "dkv-check: cannot write %s\n", path.c_str());
        any_unreadable = true;
      }
    }
  }
  return any_failed ? 1 : any_unreadable ? 3 : any_unknown || bad_input ? 2 : 0;
}
