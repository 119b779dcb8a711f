#include "server_process.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace dkv::test {

std::string dkv_binary() {
  const char* other = std::getenv("DKV_TEST_BINARY");
  return other && *other ? other : DKV_BINARY;
}

std::string member_name(std::size_t i) { return "node-" + std::to_string(i + 1); }

std::string member_entry(std::size_t i, std::uint16_t peer_port) {
  return member_name(i) + "=127.0.0.1:" + std::to_string(peer_port);
}

std::string loopback_members(const std::vector<std::uint16_t>& peer_ports) {
  std::string members;
  for (std::size_t i = 0; i < peer_ports.size(); ++i) members += (i ? "," : "") + member_entry(i, peer_ports[i]);
  return members;
}

void flip_middle_byte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const std::streamoff middle = f.tellg() / 2;
  f.seekg(middle);
  const char byte = static_cast<char>(f.get());
  f.seekp(middle);
  f.put(static_cast<char>(byte ^ 0x5a));
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

std::string tail_of(const std::string& path, std::size_t bytes) {
  const std::string text = text_of(path);
  return text.size() > bytes ? "…" + text.substr(text.size() - bytes) : text;
}

}  // namespace dkv::test
