#include "ops/state/checkpoint_create.h"

#include <filesystem>

#include "base/clock.h"
#include "base/fs.h"
#include "node/client.h"
#include "ops/state/checkpoint_transfer.h"
#include "state/checkpoint.h"

namespace ailee::ops {
namespace {

std::string WithoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Scratch beside `base` that killed runs left ("<base>.tmp.<dead owner>..."):
// removed first, it would otherwise pin compacted-away SST files forever.
void RemoveAbandonedSiblings(const std::string& base) {
  fs::RemoveAbandoned(fs::Dirname(base), fs::Basename(base) + ".tmp.");
}

}  // namespace

CreateCheckpointOptions CheckpointOptionsFor(const StateSource& s) {
  CreateCheckpointOptions o;
  o.node_url = s.node_url;
  o.admin_token = s.admin_token;
  o.data_dir = s.data_dir;
  o.node_id = s.node_id;
  return o;
}

Result<state::CheckpointManifest> TakeCheckpoint(const CreateCheckpointOptions& o, const std::string& dir,
                                                 std::map<std::string, state::DatabaseFileFacts>* table_facts) {
  if (o.node_url.empty()) return state::TakeOfflineCheckpoint(o.data_dir, o.node_id, dir, table_facts);
  state::CheckpointManifest m;
  m.node_id = o.node_id;
  m.created_unix = Clock::Real().NowSeconds();
  node::NodeClient client(o.node_url, o.admin_token, 600000);
  ASSIGN_OR_RETURN(auto info, client.PostJson("/v1/admin/checkpoint", {{"path", dir}}, true));
  m.height = info["height"].get<uint64_t>();
  crypto::HashFromHex(info["block_hash"].get<std::string>(), &m.block_hash);
  crypto::HashFromHex(info["state_root"].get<std::string>(), &m.state_root);
  if (info.contains("node_id")) m.node_id = info["node_id"].get<std::string>();
  m.source = "online:" + o.node_url;
  return m;
}

Result<state::CheckpointManifest> CreateCheckpoint(const CreateCheckpointOptions& o) {
  if (o.output.empty()) return InvalidArgument("--output: a directory path is required");
  std::string output = std::filesystem::absolute(o.output).lexically_normal().string();
  if (!output.empty() && output.back() == '/') output.pop_back();
  if (fs::Exists(output)) return AlreadyExists("checkpoint target " + output + " already exists");
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(output), 0755, o.file_system));
  RemoveAbandonedSiblings(output);
  RETURN_IF_ERROR(fs::RemoveAll(output + ".partial", o.file_system));  // the fixed staging name of older versions
  const std::string staging = fs::TempSiblingName(output);

  auto m = TakeCheckpoint(o, staging);
  Status st = m.status();
  if (st.ok()) st = state::SealCheckpoint(staging, &*m, o.progress, o.file_system);
  if (st.ok()) st = fs::RenameDurable(staging, output, o.file_system);
  if (!st.ok()) {
    (void)fs::RemoveAll(staging, o.file_system);
    return st;
  }
  return m;
}

Result<state::CheckpointManifest> CreateCheckpointInStore(CreateCheckpointOptions o, storage::ObjectStore& store) {
  // Beside the data dir, never inside it.
  const std::string base = WithoutTrailingSlash(o.data_dir.empty() ? std::string("/tmp/ailee-checkpoint") : o.data_dir);
  RETURN_IF_ERROR(fs::MakeDirs(fs::Dirname(base)));
  RemoveAbandonedSiblings(base);
  const std::string scratch = fs::TempSiblingName(base);
  auto m = TakeCheckpoint(o, scratch);
  Status st = m.status();
  if (st.ok()) st = state::SealCheckpoint(scratch, &*m, o.progress, o.file_system);
  if (st.ok()) st = UploadCheckpoint(scratch, store, o.progress);
  // The node (online) or this process wrote it; either way it is ours to remove.
  (void)fs::RemoveAll(scratch, o.file_system);
  if (!st.ok()) return st;
  return m;
}

Result<state::CheckpointManifest> CreateCheckpointAtOutput(const CheckpointOutputOptions& o) {
  std::shared_ptr<storage::ObjectStore> store;
  if (IsRemoteCheckpointUrl(o.output)) {
    auto opened = storage::OpenObjectStore(o.output);
    if (!opened.ok()) return opened.status().WithContext("--output");
    store = *opened;
  }
  ASSIGN_OR_RETURN(StateSource source, ResolveStateSource(o.source));
  CreateCheckpointOptions co = CheckpointOptionsFor(source);
  co.output = o.output;
  co.progress = o.progress;
  // To a URL: made in a scratch dir beside the data dir (hard links need
  // its filesystem; the node, online, writes there too), uploaded, removed.
  return store ? CreateCheckpointInStore(co, *store) : CreateCheckpoint(co);
}

}  // namespace ailee::ops
