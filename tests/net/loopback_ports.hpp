#pragma once
// The tests' loopback ports are real/process's (picked below the ephemeral range).

#include "real/process/loopback_ports.hpp"

namespace dkv::net::testing {
using dkv::real::free_ports;
}
