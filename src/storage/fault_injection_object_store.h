// FaultInjectionObjectStore: a decorator that makes a store fail on purpose,
// so "the process died / the disk went away halfway through" is a unit test.
//
// Counts every call, and fails according to a FaultPlan:
//   - fail_put_number = N: the Nth Put/PutIfAbsent (1-based) fails;
//   - fail_get_number = N: the Nth Get/GetRange fails;
//   - fail_after_put_bytes = B: the Put that would take the total bytes
//     written past B fails (a disk that fills up or dies mid-run);
//   - sticky: once a fault fired, every later mutating call (Put,
//     PutIfAbsent, Delete) fails too. That models a crash: nothing the
//     process would have written afterwards reaches the store. Reads keep
//     working unless fail_reads_after_fault is set.
// A failing Put never writes anything (Put is atomic in the inner store).
// Thread-safe; the plan may be changed between operations with SetPlan.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/object_store.h"

namespace ailee::storage {

struct FaultPlan {
  int64_t fail_put_number = 0;       // 0: never
  int64_t fail_get_number = 0;       // 0: never
  int64_t fail_after_put_bytes = -1;  // -1: never
  bool sticky = true;
  bool fail_reads_after_fault = false;
  StatusCode code = StatusCode::kUnavailable;
};

struct FaultCounters {
  int64_t puts = 0;
  int64_t gets = 0;
  // Gets and GetRanges by the key's first path segment ("snapshots",
  // "index", "data", ...; the whole key when it has no '/').
  std::map<std::string, int64_t> gets_by_prefix;
  int64_t deletes = 0;
  int64_t lists = 0;
  int64_t put_bytes = 0;
  int64_t get_bytes = 0;
  bool fault_fired = false;
};

class FaultInjectionObjectStore final : public ObjectStore {
 public:
  explicit FaultInjectionObjectStore(std::shared_ptr<ObjectStore> inner, FaultPlan plan = {});

  void SetPlan(FaultPlan plan);  // also clears "fault fired"
  FaultCounters counters() const;

  std::string Location() const override { return inner_->Location(); }
  Status Put(const std::string& key, std::string_view data) override;
  Status PutIfAbsent(const std::string& key, std::string_view data) override;
  Result<std::string> Get(const std::string& key) override;
  Result<std::string> GetRange(const std::string& key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  StoreFeatures Features() const override { return inner_->Features(); }
  Result<int64_t> RetainedUntilUnixMs(const std::string& key) override { return inner_->RetainedUntilUnixMs(key); }

 private:
  Status BeforeWrite(const std::string& key, size_t bytes);
  Status BeforeRead(const std::string& key);
  Status BeforeMutation(const std::string& key);
  Status Fault(std::string_view op, const std::string& key);

  std::shared_ptr<ObjectStore> inner_;
  mutable std::mutex mu_;
  FaultPlan plan_;
  FaultCounters counters_;
};

}  // namespace ailee::storage
