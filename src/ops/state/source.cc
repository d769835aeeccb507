#include "ops/state/source.h"

#include <cstdlib>

#include "base/fs.h"
#include "base/hint.h"
#include "node/client.h"
#include "state/data_dir.h"

namespace ailee::ops {
namespace {

std::string WithoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string ScratchParentFor(const std::string& data_dir) {
  if (!data_dir.empty()) return fs::Dirname(WithoutTrailingSlashes(data_dir));
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

}  // namespace

Result<StateSource> ResolveStateSource(const StateSourceOptions& o) {
  StateSource s;
  s.node_id = o.node_id;
  s.data_dir = o.data_dir;
  s.scratch_parent = ScratchParentFor(o.data_dir);
  if (o.offline) {
    if (o.data_dir.empty()) return InvalidArgument("no running node to ask and no data dir to open");
    return s;
  }
  if (!o.node_url.empty()) {
    auto health = node::NodeClient(o.node_url, "", o.probe_timeout_ms).GetJson("/v1/health");
    if (health.ok()) {
      if (!o.read_admin_token) return InvalidArgument("the node at " + o.node_url + " answers, but no admin token is configured");
      ASSIGN_OR_RETURN(s.admin_token, o.read_admin_token());
      s.node_url = o.node_url;
      return s;
    }
    // The node gates its restored, unproven state (node/background_proof.h):
    // it hands out no checkpoint, and its data dir is no better offline.
    if (health.status().message().find("proof running") != std::string::npos) {
      return WithHint(Unavailable("the node at " + o.node_url + " is proving a restored state in the background and "
                                  "serves no checkpoint of it until the proof passes (" +
                                  std::string(MessageWithoutHint(health.status())) + ")"),
                      "rerun once the proof has passed (`ailee-cli health-check` succeeds; progress: GET /v1/status, "
                      "\"proof\")");
    }
  }
  if (o.data_dir.empty() && !o.why_nothing_known.ok()) return o.why_nothing_known;
  if (o.data_dir.empty()) return Unavailable("node at " + o.node_url + " does not answer and no --data-dir was given");
  Status held = state::EnsureNotInUse(o.data_dir);
  if (!held.ok()) {
    return WithHint(FailedPrecondition(std::string(MessageWithoutHint(held)) + ", but no node answers at " +
                                       (o.node_url.empty() ? std::string("its API (no URL known)") : o.node_url) +
                                       ": neither an online nor an offline checkpoint can be taken"),
                    "wait until the node answers (it may be starting), check --url against node.listen_*, or stop "
                    "it (systemctl stop ailee-node) and rerun");
  }
  return s;
}

}  // namespace ailee::ops
