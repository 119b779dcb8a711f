#include "tools/dkv-sim/swarm.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <tuple>
#include <utility>

#include "tools/dkv-sim/run_arguments.hpp"

namespace dkv::sim::tool {

namespace {

struct worker {
  pid_t pid = -1;
  unsigned index = 0;
  int from = -1;       // the pipe's read end
  std::string buffer;  // a partial line
  std::uint64_t done = 0;
};

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Pair k of the plan: seeds interleaved across the scenarios.
std::pair<std::size_t, std::uint64_t> pair_at(const swarm_plan& plan, std::uint64_t k) {
  return {k % plan.scenarios.size(), plan.first_seed + k / plan.scenarios.size()};
}

// A worker's life: its share of the pairs, one line each, then exit.
[[noreturn]] void work(const swarm_plan& plan, unsigned index, int to) {
  const std::uint64_t total = plan.seeds * plan.scenarios.size();
  run_arguments spec;
  spec.out_dir = plan.out_dir;
  for (std::uint64_t k = index; k < total; k += plan.jobs) {
    const auto [which, seed] = pair_at(plan, k);
    run_options o = options_of(plan, which, seed);
    std::ostringstream history;
    o.history = plan.out_dir.empty() ? nullptr : &history;
    const run_report r = plan.runner ? plan.runner(o) : run_random(o);
    const check_result* failed = r.first_failure();
    if (failed && !plan.out_dir.empty()) {
      std::ostringstream ignored;
      write_failure(spec, plan.scenarios[which].name, seed, history.str(), verdicts_of(r), ignored);
    }
    write_all(to, std::to_string(which) + " " + std::to_string(seed) + " " + std::to_string(r.operations) + " " +
                      (failed ? failed->name : std::string("-")) + "\n");
  }
  ::close(to);
  std::fflush(nullptr);
  ::_exit(0);
}

// A worker whose pipe closed early died in the middle of its next pair (a
// crash of the simulated code is a failure too).
void report_crash(const swarm_plan& plan, worker& w, swarm_totals& totals) {
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  w.pid = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  swarm_task_result r;
  std::tie(r.scenario, r.seed) = pair_at(plan, w.index + w.done * plan.jobs);
  r.passed = false;
  r.check = WIFSIGNALED(status) ? "crash(signal " + std::to_string(WTERMSIG(status)) + ")" : "crash(exit)";
  totals.results.push_back(r);
  if (plan.on_result) plan.on_result(r);
  if (plan.stop_after && plan.stop_after(r)) totals.stopped = true;
}

std::optional<swarm_task_result> parse_line(const std::string& line) {
  std::istringstream in(line);
  swarm_task_result r;
  std::string check;
  if (!(in >> r.scenario >> r.seed >> r.operations >> check)) return std::nullopt;
  r.passed = check == "-";
  if (!r.passed) r.check = check;
  return r;
}

}  // namespace

run_options options_of(const swarm_plan& plan, std::size_t scenario, std::uint64_t seed) {
  run_options o = instantiate(plan.scenarios.at(scenario), seed);
  o.bugs |= plan.bugs;
  return o;
}

std::vector<std::string> scenario_files(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

swarm_totals run_swarm(const swarm_plan& plan) {
  swarm_totals totals;
  if (plan.scenarios.empty() || plan.seeds == 0) return totals;
  std::fflush(nullptr);  // nothing buffered is written twice by the children
  std::vector<worker> workers;
  for (unsigned j = 0; j < plan.jobs; ++j) {
    int fds[2];
    if (::pipe(fds) != 0) break;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      for (const worker& w : workers) ::close(w.from);
      work(plan, j, fds[1]);
    }
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      break;
    }
    workers.push_back({pid, j, fds[0], {}, 0});
  }

  std::size_t open = workers.size();
  while (open > 0 && !totals.stopped) {
    std::vector<pollfd> polled;
    for (const worker& w : workers)
      if (w.from >= 0) polled.push_back({w.from, POLLIN, 0});
    if (::poll(polled.data(), polled.size(), -1) < 0 && errno != EINTR) break;
    for (const pollfd& p : polled) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      worker& w = *std::find_if(workers.begin(), workers.end(), [&](const worker& x) { return x.from == p.fd; });
      char chunk[4096];
      const ssize_t n = ::read(w.from, chunk, sizeof chunk);
      if (n <= 0) {
        ::close(w.from);
        w.from = -1;
        --open;
        report_crash(plan, w, totals);
        continue;
      }
      w.buffer.append(chunk, static_cast<std::size_t>(n));
      for (std::size_t end; !totals.stopped && (end = w.buffer.find('\n')) != std::string::npos;) {
        const auto r = parse_line(w.buffer.substr(0, end));
        w.buffer.erase(0, end + 1);
        if (!r) continue;
        ++w.done;
        totals.results.push_back(*r);
        if (plan.on_result) plan.on_result(*r);
        if (plan.stop_after && plan.stop_after(*r)) totals.stopped = true;
      }
    }
  }
  for (worker& w : workers) {
    if (w.from >= 0) ::close(w.from);
    if (w.pid < 0) continue;
    if (totals.stopped) ::kill(w.pid, SIGKILL);
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!totals.stopped && totals.results.size() < plan.seeds * plan.scenarios.size())
    totals.stopped = true;  // a worker died: not every pair ran
  return totals;
}

}  // namespace dkv::sim::tool
