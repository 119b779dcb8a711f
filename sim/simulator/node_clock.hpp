#pragma once
// A node's own clock in the simulation. CAF's test coordinator has one global
// virtual clock; per-node drift and skew are this seam: a node reads its time
// and arms its timers only through its node_clock, the clock error of
// actors/clock_error.hpp applied to virtual time.

#include "actors/clock_error.hpp"

namespace dkv::sim {

using node_clock = actors::clock_error;

}  // namespace dkv::sim
