#include "tools/dkv-sim/run_arguments.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"
#include "sim/scenario/duration.hpp"

namespace dkv::sim::tool {

void add_bug_option(CLI::App& command, std::vector<std::string>& bugs) {
  command.add_option("--bug", bugs, "Switch an injected bug on by name (repeatable; `dkv-sim bugs --list` lists them)");
}

void add_spec_options(CLI::App& command, run_arguments& spec, bool scenario_required) {
  auto* file = command.add_option("scenario", spec.scenario_path, "A scenario file (scenarios/README.md)");
  if (scenario_required) file->required();
  command.add_option("--seed", spec.seed, "The master seed (default: the scenario's, else 1)");
  add_bug_option(command, spec.bugs);
  command.add_option("--history", spec.history_path, "Write the history (docs/history.md's JSON lines) to FILE");
  command.add_option("--report", spec.report_path, "Write the run's HTML report (dkv-check's) to FILE");
  command.add_option("--out", spec.out_dir, "Where a failing run writes its history and report (default dkv-sim-out)");
  run_flags& f = spec.flags;
  command.add_option("--time", f.time, "Virtual time of workload and faults: 60s, 500ms, 2m")
      ->check([](const std::string& t) { return parse_duration(t) ? std::string() : "not a duration: " + t; });
  command.add_option("--nodes", f.nodes, "Cluster size")->check(CLI::Range(1, 9));
  command.add_option("--clients", f.clients, "Concurrent clients")->check(CLI::Range(1, 256));
  command.add_option("--drop", f.drop, "Probability that the network drops a message")->check(CLI::Range(0.0, 0.5));
  command.add_option("--duplicate", f.duplicate, "Probability that it duplicates one")->check(CLI::Range(0.0, 0.5));
  command.add_option("--sync-failure", f.sync_failure, "Probability that an fsync fails")->check(CLI::Range(0.0, 0.01));
  command.add_option("--max-sessions", f.max_sessions, "Client sessions a node keeps")->check(CLI::Range(1, 1 << 20));
  command.add_option("--max-pending", f.max_pending, "Requests a node holds awaiting an answer")
      ->check(CLI::Range(1, 1 << 20));
  command.add_flag("--no-faults", f.no_faults, "A calm run: no partitions, crashes, drops or disk faults");
}

void add_real_flags(CLI::App& command, bool& real, double& time_scale, std::string& dkv_binary) {
  command.add_flag("--real", real,
                   "Against dkv serve processes on loopback: real crashes, pauses, partitions (a fault proxy), "
                   "disks; the same checks");
  command.add_option("--time-scale", time_scale, "With --real: every duration of the run times this")
      ->check(CLI::Range(0.1, 100.0));
  command.add_option("--dkv", dkv_binary, "With --real: the dkv that serves (default: the one beside dkv-sim)");
}

void add_real_options(CLI::App& command, run_arguments& spec) {
  add_real_flags(command, spec.real, spec.time_scale, spec.dkv_binary);
  command.add_flag("--keep", spec.keep, "With --real: keep the data directories and logs of a passing run too");
}

dkv::bugs::bug_set bug_set_of(const std::vector<std::string>& names) {
  dkv::bugs::bug_set set = 0;
  for (const std::string& name : names) {
    const auto b = dkv::bugs::find(name);
    if (!b) {
      std::string known;
      for (const auto& info : dkv::bugs::catalogue()) known += (known.empty() ? "" : ", ") + std::string(info.name);
      throw usage_error("unknown bug '" + name + "' (known: " + known + ")");
    }
    set |= dkv::bugs::bit(*b);
  }
  return set;
}

run_options options_for(const run_arguments& spec, const std::optional<scenario>& file, std::uint64_t seed) {
  run_options o = file ? instantiate(*file, seed) : run_options{};
  o.seed = seed;
  o.bugs |= bug_set_of(spec.bugs);
  const run_flags& f = spec.flags;
  if (f.time) o.time_ns = *parse_duration(*f.time);
  if (f.nodes) o.nodes = *f.nodes;
  if (f.clients) o.workload.clients = *f.clients;
  if (f.drop) o.network.drop = *f.drop;
  if (f.duplicate) o.network.duplicate = *f.duplicate;
  if (f.sync_failure) o.disk.sync_failure = *f.sync_failure;
  if (f.max_sessions) o.node.machine.sessions.max_sessions = *f.max_sessions;
  if (f.max_pending) o.node.max_pending = *f.max_pending;
  if (f.no_faults) o.faults = false;
  if (const std::string wrong = misfit(o); !wrong.empty()) throw usage_error(wrong);
  return o;
}

prepared_run prepare(const run_arguments& spec) {
  prepared_run run;
  if (!spec.scenario_path.empty()) run.file = load_scenario(spec.scenario_path);
  run.label = run.file ? run.file->name : "random";
  const std::uint64_t seed = spec.seed ? *spec.seed : run.file && run.file->seed ? *run.file->seed : 1;
  run.options = options_for(spec, run.file, seed);
  return run;
}

namespace {
template <class T>
std::string fmt_value(const T& v) {
  return fmt::format("{}", v);
}
}  // namespace

std::string command_for(const std::string& verb, const run_arguments& spec, std::uint64_t seed) {
  std::string c = "dkv-sim " + verb;
  if (!spec.scenario_path.empty()) c += " " + spec.scenario_path;
  c += " --seed " + std::to_string(seed);
  for (const std::string& b : spec.bugs) c += " --bug " + b;
  const run_flags& f = spec.flags;
  const auto add = [&c](const char* flag, const auto& value) {
    if (value) c += std::string(" ") + flag + " " + fmt_value(*value);
  };
  add("--time", f.time);
  add("--nodes", f.nodes);
  add("--clients", f.clients);
  add("--drop", f.drop);
  add("--duplicate", f.duplicate);
  add("--sync-failure", f.sync_failure);
  add("--max-sessions", f.max_sessions);
  add("--max-pending", f.max_pending);
  if (f.no_faults) c += " --no-faults";
  return c;
}

void print_header(const prepared_run& run, std::ostream& out) {
  const run_options& o = run.options;
  if (run.file) {
    out << "dkv-sim: scenario " << run.file->name << " (" << run.file->path << "), seed " << o.seed << "\n";
    if (!run.file->intent.empty()) out << "  " << run.file->intent << "\n";
    const auto drawn = drawn_settings(*run.file, o);
    if (!drawn.empty()) {
      out << "  drawn for this seed:";
      for (const std::string& d : drawn) out << " " << d << ";";
      out << "\n";
    }
  }
  out << "dkv-sim run: seed " << o.seed << ", " << format_duration(o.time_ns) << " of virtual time, " << o.nodes
      << " nodes, " << o.workload.clients << " clients, ";
  if (!o.faults)
    out << "no faults";
  else if (o.random_faults)
    out << "random faults";
  else
    out << "no random faults";
  if (o.faults && !o.schedule.empty()) out << " + " << o.schedule.size() << " planned";
  if (o.workload.scripted) out << ", a script of " << o.workload.script.size() << " calls";
  if (o.bugs) {
    out << ", bugs:";
    for (const auto name : dkv::bugs::names(o.bugs)) out << " " << name;
  }
  out << "\n";
}

std::vector<check::check_verdict> verdicts_of(const run_report& report) {
  std::vector<check::check_verdict> verdicts;
  for (const check_result& c : report.checks) {
    check::check_verdict v;
    v.name = c.name;
    v.passed = c.passed;
    v.skipped = c.skipped;
    v.detail = c.skipped ? "skipped: " + c.detail : c.detail;
    v.at_ns = c.at_ns;
    v.process = c.process;
    verdicts.push_back(std::move(v));
  }
  return verdicts;
}

bool write_report(const std::string& text, const std::vector<check::check_verdict>& checks, const std::string& path,
                  const std::string& title) {
  check::history h;
  check::parse_error error;
  if (!check::parse_history(text, h, error)) return false;
  // Checked again only for the failing part the page outlines (the run's
  // own verdict is in `checks`): the same history, the same verdict.
  check::check_options options;
  options.model = check::model_kind::dkv;
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << check::render_html_report(h, checks, check::check_history(h, options), title);
  return static_cast<bool>(file.flush());
}

void write_failure(const run_arguments& spec, const std::string& label, std::uint64_t seed, const std::string& text,
                   const std::vector<check::check_verdict>& checks, std::ostream& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(spec.out_dir, ec);
  const fs::path base = fs::path(spec.out_dir) / (label + "-seed" + std::to_string(seed));
  const std::string history_path = base.string() + ".jsonl", report_path = base.string() + ".html";
  std::ofstream history_file(history_path, std::ios::binary | std::ios::trunc);
  history_file << text;
  if (!history_file.flush()) {
    out << "history: cannot write " << history_path << "\n";
    return;
  }
  out << "history: " << history_path << "\n";
  if (write_report(text, checks, report_path, label + ", seed " + std::to_string(seed)))
    out << "report:  " << report_path << "\n";
}

unsigned default_jobs(unsigned jobs) { return jobs ? jobs : std::max(1u, std::thread::hardware_concurrency()); }

double seconds_since(wall_clock::time_point t) { return std::chrono::duration<double>(wall_clock::now() - t).count(); }

std::string fmt_seconds(double s) { return fmt::format("{:.1f} s", s); }

namespace {
bool drawing = false;
}

std::function<void(std::uint64_t, std::uint64_t)> progress_bar() {
  if (!::isatty(STDERR_FILENO)) return nullptr;
  return [](std::uint64_t now, std::uint64_t end) {
    const int width = 40;
    const int done = end == 0 ? width : static_cast<int>(std::min<std::uint64_t>(width, now * width / end));
    std::fprintf(stderr, "\r[%s%s] %s / %s", std::string(static_cast<std::size_t>(done), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - done), '.').c_str(),
                 format_duration(now / 1'000'000'000 * 1'000'000'000).c_str(),
                 format_duration(end / 1'000'000'000 * 1'000'000'000).c_str());
    drawing = true;
  };
}

void clear_progress() {
  if (drawing) std::fprintf(stderr, "\r%60s\r", "");
  drawing = false;
}

}  // namespace dkv::sim::tool
