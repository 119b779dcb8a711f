#pragma once
// An IStore that hands every operation but limits() to another one: the base of test
// stores that own what their store needs (a server, a cluster) and must
// outlive it in a conformance case.

#include "store/istore.hpp"

namespace dkv::test {

class forwarding_store : public istore {
 public:
  write_result Set(std::string_view k, std::string_view v) override { return target().Set(k, v); }
  write_result SetE(std::string_view k, std::string_view v, std::uint64_t e, std::uint64_t d) override {
    return target().SetE(k, v, e, d);
  }
  write_result SetEIfUnset(std::string_view k, std::string_view v, std::uint64_t e, std::uint64_t d) override {
    return target().SetEIfUnset(k, v, e, d);
  }
  write_result Expire(std::string_view k) override { return target().Expire(k); }
  write_result Delete(std::string_view k) override { return target().Delete(k); }
  delete_if_value_result DeleteIfValue(std::string_view k, std::string_view v) override {
    return target().DeleteIfValue(k, v);
  }
  get_result Get(std::string_view k) override { return target().Get(k); }
  has_result Has(std::string_view k) override { return target().Has(k); }
  db_info_result GetDBInfo() override { return target().GetDBInfo(); }

 protected:
  virtual istore& target() = 0;
};

}  // namespace dkv::test
