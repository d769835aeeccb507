#include "storage/fault_injection_object_store.h"

namespace ailee::storage {

FaultInjectionObjectStore::FaultInjectionObjectStore(std::shared_ptr<ObjectStore> inner, FaultPlan plan)
    : inner_(std::move(inner)), plan_(plan) {}

void FaultInjectionObjectStore::SetPlan(FaultPlan plan) {
  std::lock_guard lock(mu_);
  plan_ = plan;
  counters_.fault_fired = false;
}

FaultCounters FaultInjectionObjectStore::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

Status FaultInjectionObjectStore::Fault(std::string_view op, const std::string& key) {
  counters_.fault_fired = true;
  return Status(plan_.code, "injected fault: " + std::string(op) + " object " + key + " in " + Location());
}

Status FaultInjectionObjectStore::BeforeWrite(const std::string& key, size_t bytes) {
  std::lock_guard lock(mu_);
  ++counters_.puts;
  if (counters_.fault_fired && plan_.sticky) return Fault("put (after crash)", key);
  if (plan_.fail_put_number > 0 && counters_.puts == plan_.fail_put_number) return Fault("put", key);
  if (plan_.fail_after_put_bytes >= 0 &&
      counters_.put_bytes + static_cast<int64_t>(bytes) > plan_.fail_after_put_bytes) {
    return Fault("put (disk full)", key);
  }
  counters_.put_bytes += static_cast<int64_t>(bytes);
  return Status::Ok();
}

Status FaultInjectionObjectStore::BeforeRead(const std::string& key) {
  std::lock_guard lock(mu_);
  ++counters_.gets;
  ++counters_.gets_by_prefix[key.substr(0, key.find('/'))];
  if (counters_.fault_fired && plan_.fail_reads_after_fault) return Fault("get (after crash)", key);
  if (plan_.fail_get_number > 0 && counters_.gets == plan_.fail_get_number) return Fault("get", key);
  return Status::Ok();
}

Status FaultInjectionObjectStore::BeforeMutation(const std::string& key) {
  std::lock_guard lock(mu_);
  ++counters_.deletes;
  if (counters_.fault_fired && plan_.sticky) return Fault("delete (after crash)", key);
  return Status::Ok();
}

Status FaultInjectionObjectStore::Put(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(BeforeWrite(key, data.size()));
  return inner_->Put(key, data);
}

Status FaultInjectionObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(BeforeWrite(key, data.size()));
  return inner_->PutIfAbsent(key, data);
}

Result<std::string> FaultInjectionObjectStore::Get(const std::string& key) {
  RETURN_IF_ERROR(BeforeRead(key));
  auto r = inner_->Get(key);
  if (r.ok()) {
    std::lock_guard lock(mu_);
    counters_.get_bytes += static_cast<int64_t>(r->size());
  }
  return r;
}

Result<std::string> FaultInjectionObjectStore::GetRange(const std::string& key, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(BeforeRead(key));
  auto r = inner_->GetRange(key, offset, length);
  if (r.ok()) {
    std::lock_guard lock(mu_);
    counters_.get_bytes += static_cast<int64_t>(r->size());
  }
  return r;
}

Result<uint64_t> FaultInjectionObjectStore::Stat(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (counters_.fault_fired && plan_.fail_reads_after_fault) return Fault("stat (after crash)", key);
  }
  return inner_->Stat(key);
}

Status FaultInjectionObjectStore::Delete(const std::string& key) {
  RETURN_IF_ERROR(BeforeMutation(key));
  return inner_->Delete(key);
}

Result<std::vector<ObjectInfo>> FaultInjectionObjectStore::List(const std::string& prefix) {
  {
    std::lock_guard lock(mu_);
    ++counters_.lists;
    if (counters_.fault_fired && plan_.fail_reads_after_fault) return Fault("list (after crash)", prefix);
  }
  return inner_->List(prefix);
}

}  // namespace ailee::storage
