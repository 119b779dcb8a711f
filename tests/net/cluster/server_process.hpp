#pragma once
// Helpers of the multi-process tests: their `dkv serve` processes
// (real/process's child_process: reaped within a bound, killed at the end
// in every case), the dkv they run, loopback member lists, damage to files.

#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

#include "real/process/child_process.hpp"

namespace dkv::test {

using server_process = dkv::real::child_process;

// The dkv the tests run: DKV_TEST_BINARY if set (to check that a test fails
// against an older dkv), else this build's.
std::string dkv_binary();

// The tests' loopback clusters: member i (0-based) is named "node-<i+1>",
// and its peer port is peer_ports[i] on 127.0.0.1.
std::string member_name(std::size_t i);
std::string member_entry(std::size_t i, std::uint16_t peer_port);  // "node-2=127.0.0.1:PORT"
std::string loopback_members(const std::vector<std::uint16_t>& peer_ports);  // --cluster-members

// Flips one byte in the middle of a file (damage a checksum must catch).
void flip_middle_byte(const std::string& path);

// The whole of a (log) file; empty if it cannot be read.
std::string text_of(const std::string& path);

// The tail of a log file, for failure messages.
std::string tail_of(const std::string& path, std::size_t bytes = 2000);

}  // namespace dkv::test
