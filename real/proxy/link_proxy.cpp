#include "real/proxy/link_proxy.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "real/proxy/link_state.hpp"
#include "real/proxy/proxy_connection.hpp"

namespace dkv::real {

using detail::asio::ip::tcp;
namespace asio = detail::asio;

struct link_proxy::impl {
  explicit impl(std::uint64_t seed) : seed(seed), work(asio::make_work_guard(io)), thread([this] { io.run(); }) {}

  // Runs `f` on the I/O thread and returns what it returns (or throws what
  // it throws); once that thread has ended, here. The caller holds `control`.
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    if (stopped) return f();
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }

  detail::link_state& link(member_id from, member_id to) {
    const auto found = links.find({from, to});
    if (found == links.end())
      throw std::out_of_range("link_proxy: no link " + std::to_string(from) + "->" + std::to_string(to));
    return *found->second;
  }

  const std::uint64_t seed;
  std::mutex control;  // one control call at a time
  bool stopped = false;
  link_faults faults;
  asio::io_context io;  // before the links: their sockets go first
  std::map<std::pair<member_id, member_id>, std::shared_ptr<detail::link_state>> links;
  asio::executor_work_guard<asio::io_context::executor_type> work;  // run() returns only once stop() lets it
  std::thread thread;                                               // last: it starts when all else is there
};

link_proxy::link_proxy(std::uint64_t seed) : impl_(std::make_unique<impl>(seed)) {}

link_proxy::~link_proxy() { stop(); }

std::uint16_t link_proxy::add_link(member_id from, member_id to, std::uint16_t target_port, std::uint16_t listen_port) {
  std::lock_guard lock{impl_->control};
  if (impl_->stopped) throw std::logic_error("link_proxy: add_link after stop");
  if (impl_->links.count({from, to}) != 0)
    throw std::invalid_argument("link_proxy: link " + std::to_string(from) + "->" + std::to_string(to) +
                                " added twice");
  return impl_->on_io([&] {
    // A generator per link, from the seed and the link alone.
    auto link = std::make_shared<detail::link_state>(impl_->io, from, to, target_port,
                                                     dkv::rng(impl_->seed).derive(std::uint64_t{from} << 32 | to));
    link->faults = impl_->faults;
    const tcp::endpoint at{asio::ip::address_v4::loopback(), listen_port};
    link->acceptor.open(at.protocol());
    // A given port can be taken again right after an earlier proxy on it closed.
    link->acceptor.set_option(tcp::acceptor::reuse_address(true));
    link->acceptor.bind(at);
    link->acceptor.listen();
    impl_->links[{from, to}] = link;
    detail::accept_next(link);
    return link->acceptor.local_endpoint().port();
  });
}

void link_proxy::set_cut(member_id from, member_id to, bool cut) {
  std::lock_guard lock{impl_->control};
  detail::link_state& link = impl_->link(from, to);
  impl_->on_io([&] { link.cut = cut; });
}

void link_proxy::heal() {
  std::lock_guard lock{impl_->control};
  impl_->on_io([&] {
    for (auto& [key, link] : impl_->links) link->cut = false;
  });
}

void link_proxy::set_faults(const link_faults& faults) {
  const auto probability = [](double p) { return p >= 0 && p <= 1; };  // false for NaN too
  if (faults.min_latency_ns > faults.max_latency_ns || !probability(faults.drop) || !probability(faults.duplicate))
    throw std::invalid_argument("link_proxy: latency min above max, or a probability outside [0, 1]");
  std::lock_guard lock{impl_->control};
  impl_->faults = faults;
  impl_->on_io([&] {
    for (auto& [key, link] : impl_->links) link->faults = faults;
  });
}

void link_proxy::reset(member_id from, member_id to) {
  std::lock_guard lock{impl_->control};
  detail::link_state& link = impl_->link(from, to);
  impl_->on_io([&] { detail::close_connections(link, true); });
}

link_stats link_proxy::stats(member_id from, member_id to) const {
  std::lock_guard lock{impl_->control};
  detail::link_state& link = impl_->link(from, to);
  return impl_->on_io([&] {
    link_stats s = link.stats;
    s.open_connections = link.connections.size();
    return s;
  });
}

void link_proxy::stop() {
  std::lock_guard lock{impl_->control};
  if (impl_->stopped) return;
  impl_->on_io([&] {
    for (auto& [key, link] : impl_->links) {
      boost::system::error_code ignored;
      link->acceptor.close(ignored);
      link->accept_pause.cancel();
      detail::close_connections(*link, false);
    }
  });
  // With nothing open, the I/O thread runs the cancelled handlers out and ends.
  impl_->work.reset();
  impl_->thread.join();
  impl_->stopped = true;
}

}  // namespace dkv::real
