#include "real/lazyfs/control.hpp"

#include <charconv>
#include <sstream>

namespace dkv::lazyfs {

namespace {

std::vector<std::string> words_of(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

bool parse_seed(const std::string& word, std::uint64_t& out) {
  const char* end = word.data() + word.size();
  auto [ptr, ec] = std::from_chars(word.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_probability(const std::string& word, double& out) {
  // std::from_chars for double is in GCC 11+, but istringstream reads the
  // same decimal forms and needs nothing newer.
  std::istringstream in(word);
  if (!(in >> out) || !in.eof()) return false;
  return out >= 0.0 && out <= 1.0;
}

std::optional<command> parse_line(const std::vector<std::string>& words, std::string& error) {
  command c;
  const std::string& verb = words[0];
  if (verb == "sync-all" || verb == "stats") {
    if (words.size() != 1) {
      error = verb + " takes no arguments";
      return std::nullopt;
    }
    c.what = verb == "stats" ? command::kind::stats : command::kind::sync_all;
    return c;
  }
  if (verb != "lose-unsynced") {
    error = "unknown command '" + verb + "' (lose-unsynced [tear|keep-prefix SEED [P]], sync-all, stats)";
    return std::nullopt;
  }
  c.what = command::kind::lose_unsynced;
  if (words.size() == 1) return c;
  if ((words[1] != "tear" && words[1] != "keep-prefix") || words.size() < 3 || words.size() > 4) {
    error = "usage: lose-unsynced [tear|keep-prefix SEED [PROBABILITY]]";
    return std::nullopt;
  }
  c.tear = words[1] == "tear" ? tear_kind::last_write : tear_kind::dirty_prefix;
  if (!parse_seed(words[2], c.seed)) {
    error = "the seed must be an unsigned integer, not '" + words[2] + "'";
    return std::nullopt;
  }
  if (words.size() == 4 && !parse_probability(words[3], c.tear_probability)) {
    error = "the probability must be a number in [0, 1], not '" + words[3] + "'";
    return std::nullopt;
  }
  return c;
}

}  // namespace

std::optional<std::vector<command>> parse_commands(std::string_view text, std::string& error) {
  std::vector<command> commands;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const std::vector<std::string> words = words_of(line);
    if (words.empty()) continue;
    std::optional<command> c = parse_line(words, error);
    if (!c) return std::nullopt;
    commands.push_back(*c);
  }
  return commands;
}

}  // namespace dkv::lazyfs
