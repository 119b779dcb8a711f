#include "sim/simulator/assertion_trap.hpp"

namespace dkv::sim {

namespace {

thread_local assertion_trap* current = nullptr;

// The handler that was installed before the first trap: it gets the
// failures no trap takes.
assertion_handler before_traps = nullptr;

}  // namespace

assertion_trap::assertion_trap() : outer_(current) {
  // Installed once and left in place: a thread without a trap falls through
  // to the handler before it, so simulators on several threads (or one
  // after another) need not restore it in the right order.
  static const bool installed = [] {
    before_traps = set_assertion_handler(&assertion_trap::handle);
    return true;
  }();
  (void)installed;
  current = this;
}

assertion_trap::~assertion_trap() { current = outer_; }

void assertion_trap::handle(const assertion_failure& failure) {
  if (!current) {
    if (before_traps) before_traps(failure);
    abort_on_assertion(failure);
  }
  if (!current->failure_) current->failure_ = failure.message();
  throw broken_invariant(*current->failure_);
}

void assertion_trap::rethrow_if_failed() const {
  if (failure_) [[unlikely]]
    throw broken_invariant(*failure_);
}

}  // namespace dkv::sim
