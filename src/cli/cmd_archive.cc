// archive: the block archive (every block a node commits, in the
// repository): run the archiver, show its status and recovery window, list
// segments, and roll a stopped data dir forward with archived blocks.
#include <signal.h>

#include <atomic>
#include <optional>
#include <iostream>

#include "audit/scoped_op.h"
#include "base/clock.h"
#include "base/fs.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/ending.h"
#include "config/node_access.h"
#include "cli/repo_session.h"
#include "ops/blocks/archiver.h"
#include "ops/blocks/replay.h"
#include "ops/metrics/job_samples.h"
#include "repo/block_archive.h"

namespace ailee::cli {
namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

void StopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

struct NodeArgs {
  std::string node_url;    // default: the config's listen address
  std::string buffer_dir;  // default: beside the data dir
};

void AddNodeOptions(CLI::App* cmd, NodeArgs& a) {
  cmd->add_option("--node-url", a.node_url, "the node's API (default: from the config's node.listen)");
  cmd->add_option("--buffer-dir", a.buffer_dir,
                  "local buffer for segments while the repository is unreachable\n"
                  "(default: blocklog-buffer beside the config's node.data_dir)");
}

std::string NodeUrlOf(const NodeArgs& a, const std::optional<config::NodeConfig>& cfg) {
  return !a.node_url.empty() ? a.node_url : cfg ? config::NodeUrl(*cfg) : "http://127.0.0.1:8545";
}

Result<std::string> BufferDirOf(const NodeArgs& a, const std::optional<config::NodeConfig>& cfg) {
  if (!a.buffer_dir.empty()) return a.buffer_dir;
  if (!cfg) return InvalidArgument("--buffer-dir: required without a config (the default lies beside node.data_dir)");
  return fs::JoinPath(fs::Dirname(cfg->node.data_dir), "blocklog-buffer");
}

void SetUpRun(CLI::App& parent, Session& ses) {
  auto* cmd = parent.add_subcommand(
      "run",
      "Follow the node and append every block it commits to the repository's block archive, sealed every\n"
      "--seal-blocks blocks or --seal-interval-ms (default: the node's block interval, so RPO <= 1 block).\n"
      "Resumes from the last archived height; runs until SIGTERM (--once: archive what is there and exit).");
  auto args = std::make_shared<RepoArgs>();
  auto node = std::make_shared<NodeArgs>();
  struct Opts {
    uint64_t seal_blocks = 100;
    int64_t seal_interval_ms = 0;
    uint64_t buffer_limit_mib = 256;
    bool once = false;
  };
  auto o = std::make_shared<Opts>();
  AddRepoOptions(cmd, *args);
  AddNodeOptions(cmd, *node);
  cmd->add_option("--seal-blocks", o->seal_blocks, "seal a segment at this many blocks")->capture_default_str();
  cmd->add_option("--seal-interval-ms", o->seal_interval_ms,
                  "seal when the oldest pending block waited this long (0: the config's block interval)");
  cmd->add_option("--buffer-limit-mib", o->buffer_limit_mib, "local buffer bound")->capture_default_str();
  cmd->add_flag("--once", o->once, "archive the blocks the node has now, then exit");
  cmd->callback([&ses, args, node, o] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    auto buffer = BufferDirOf(*node, s->config());
    if (!buffer.ok()) return EndCommand(ses, buffer.status());
    ops::ArchiverOptions ao;
    ao.node_url = NodeUrlOf(*node, s->config());
    ao.buffer_dir = *buffer;
    ao.seal_blocks = o->seal_blocks;
    ao.seal_interval_ms = o->seal_interval_ms > 0 ? o->seal_interval_ms
                                                  : s->config() ? s->config()->node.block_interval_ms : 1000;
    ao.buffer_limit_bytes = o->buffer_limit_mib << 20;
    ao.once = o->once;
    StopOnSignals();
    ao.stop = &g_stop;
    ao.log = [quiet = ses.global().quiet](const std::string& level, const std::string& line) {
      if (!quiet || level != "info") std::cerr << FormatUtc(Clock::Real().NowMillis() / 1000) << " archive " << level << ": " << line << std::endl;
    };
    // The node's admin token (as create-checkpoint reads it) lets the
    // archiver report its progress for the node's /metrics.
    auto token = s->config() ? config::ReadAdminToken(*s->config())
                             : Result<std::string>(NotFound("no config, so no node.admin_token_file"));
    if (token.ok()) {
      ao.admin_token = *token;
    } else {
      ao.log("warn", "archive progress is not reported to the node (no ailee_node_archive_* on its /metrics): " +
                         token.status().message());
    }
    audit::ScopedAuditOp op(s->audit(), "archive-run", {{"repository", s->url()}, {"node", ao.node_url}, {"once", o->once}});
    auto archived = ops::RunArchiver(s->repo(), ao);
    if (archived.ok()) ses.AddMetrics(ops::metrics::ArchiverSamples(*archived));
    EndCommand(
        ses, archived, op,
        [](const ops::ArchiverResult& r) {
          return json{{"node_id", r.node_id}, {"archived_height", r.archived_height}, {"blocks_archived", r.blocks_archived},
                      {"segments_written", r.segments_written}, {"buffered_segments", r.buffered_segments}};
        },
        [](const ops::ArchiverResult& r) {
          return "archived " + std::to_string(r.blocks_archived) + " blocks of node " + r.node_id + " in " +
                 std::to_string(r.segments_written) + " segments; archive ends at height " + std::to_string(r.archived_height);
        });
  });
}

json StatusJson(const ops::ArchiveStatus& st, const ops::RecoveryWindow& w) {
  json j = st.ToJson();
  j["recovery_window"] = {{"earliest_height", w.has_snapshot ? json(w.earliest_height) : json(nullptr)},
                          {"earliest_time", w.has_snapshot ? FormatUtc(w.earliest_time_ms / 1000) : ""},
                          {"earliest_snapshot", w.earliest_snapshot},
                          {"latest_height", w.latest_height},
                          {"latest_time", w.latest_time_ms > 0 ? FormatUtc(w.latest_time_ms / 1000) : ""}};
  return j;
}

std::string StatusText(const ops::ArchiveStatus& st, const ops::RecoveryWindow& w) {
  std::vector<std::string> lines;
  lines.push_back("node " + st.node_id + ": archived to height " + std::to_string(st.archived_height) + " in " +
                  std::to_string(st.segments) + " segments" +
                  (st.node_reachable ? ", node at " + std::to_string(st.node_height) + " (lag " + std::to_string(st.lag_blocks) + " blocks)"
                                     : ", node unreachable") +
                  ", " + std::to_string(st.buffered_segments) + " segments buffered locally");
  lines.push_back(w.has_snapshot ? "recovery window: heights " + std::to_string(w.earliest_height) + ".." + std::to_string(w.latest_height)
                                 : "recovery window: none (no state snapshot of this node)");
  if (!st.alarm.empty()) lines.push_back("ALARM: " + st.alarm);
  return Lines(lines);
}

void SetUpStatus(CLI::App& parent, Session& ses) {
  auto* cmd = parent.add_subcommand(
      "status", "The archive of a node against its tip (lag), the local buffer and its alarm, and the recovery window\n"
                "(earliest restorable height: the oldest state snapshot; latest: the last archived block).");
  auto args = std::make_shared<RepoArgs>();
  auto node = std::make_shared<NodeArgs>();
  auto node_id = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  AddNodeOptions(cmd, *node);
  cmd->add_option("--node-id", *node_id, "whose archive (default: asked of the node)");
  cmd->callback([&ses, args, node, node_id] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    auto buffer = BufferDirOf(*node, s->config());
    if (!buffer.ok()) return EndCommand(ses, buffer.status());
    auto st = ops::GetArchiveStatus(s->repo(), NodeUrlOf(*node, s->config()), *buffer, *node_id);
    if (!st.ok()) return EndCommand(ses, st.status());
    ses.AddMetrics(ops::metrics::ArchiveStatusSamples(*st));
    auto w = ops::GetRecoveryWindow(s->repo(), st->node_id);
    if (!w.ok()) return EndCommand(ses, w.status());
    EndCommand(ses, Status::Ok(), {}, [&] { return StatusJson(*st, *w); }, [&] { return StatusText(*st, *w); });
  });
}

void SetUpList(CLI::App& parent, Session& ses) {
  auto* cmd = parent.add_subcommand("list", "List block archive segments (node, heights, size); from names only");
  auto args = std::make_shared<RepoArgs>();
  auto node_id = std::make_shared<std::string>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("--node-id", *node_id, "only this node's segments");
  cmd->callback([&ses, args, node_id] {
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    EndCommand(
        ses, repo::ListBlockSegments(s->repo().store(), *node_id), {},
        [](const std::vector<repo::BlockSegmentName>& segments) {
          json list = json::array();
          for (const auto& seg : segments) {
            list.push_back({{"node_id", seg.node_id}, {"first", seg.first}, {"last", seg.last}, {"id", repo::IdHex(seg.id)}});
          }
          return json{{"segments", list}};
        },
        [](const std::vector<repo::BlockSegmentName>& segments) {
          std::vector<std::string> lines;
          for (const auto& seg : segments) lines.push_back(seg.node_id + " " + seg.range() + " " + repo::ShortId(seg.id));
          for (const auto& p : repo::FindRangeProblems(segments)) lines.push_back("PROBLEM " + p.object + ": " + p.message);
          return Lines(lines);
        });
  });
}

// The replay of `cfg`'s node (or `node_id`'s) up to `target`, resolved to a
// height in the archive.
Result<ops::ReplayOptions> ReplayOptionsFor(repo::Repository& repo, const config::NodeConfig& cfg, const std::string& data_dir,
                                            const std::string& node_id, const ops::ReplayTarget& target) {
  ops::ReplayOptions ro;
  ro.data_dir = data_dir;
  ro.node_id = node_id.empty() ? cfg.node.id : node_id;
  ro.commitment_interval = static_cast<uint64_t>(cfg.node.commitment_interval);
  auto fed = FederationOf(cfg);
  if (!fed.ok()) return fed.status();
  ro.federation = *fed;
  auto height = ops::ResolveReplayTarget(repo, ro.node_id, target, ro.commitment_interval);
  if (!height.ok()) return height.status();
  ro.to_height = *height;
  return ro;
}

void SetUpReplay(CLI::App& parent, Session& ses) {
  auto* cmd = parent.add_subcommand(
      "replay",
      "Roll a stopped node's data dir forward with archived blocks, each applied by the node's own block code\n"
      "(chain link, signatures under the federation, state root per block), up to --to-height, --to-time or\n"
      "--to-anchor. The data dir must not be in use.");
  auto args = std::make_shared<RepoArgs>();
  struct Opts {
    std::string data_dir, node_id, to_time;
    uint64_t to_height = 0, to_anchor = 0;
  };
  auto o = std::make_shared<Opts>();
  AddRepoOptions(cmd, *args);
  cmd->add_option("--data-dir", o->data_dir, "the state to roll forward")->required();
  cmd->add_option("--node-id", o->node_id, "whose archive (default: the config's node.id)");
  auto* h = cmd->add_option("--to-height", o->to_height, "stop after this block");
  auto* t = cmd->add_option("--to-time", o->to_time, "stop after the last block at or before this UTC time (YYYY-MM-DDTHH:MM:SSZ)");
  auto* a = cmd->add_option("--to-anchor", o->to_anchor, "stop at the block of the Nth anchor commitment");
  h->excludes(t)->excludes(a);
  t->excludes(a);
  cmd->callback([&ses, args, o, h, a] {
    if (h->count() + a->count() + (o->to_time.empty() ? 0 : 1) != 1) {
      return EndCommand(ses, InvalidArgument("give one of --to-height, --to-time and --to-anchor"));
    }
    auto s = RepoSession::Open(ses, *args);
    if (!s.ok()) return EndCommand(ses, s.status());
    if (!s->config()) return EndCommand(ses, InvalidArgument("replay needs the config (--config): its federation and intervals"));
    ops::ReplayTarget target;
    if (h->count()) target.height = o->to_height;
    if (a->count()) target.anchor = o->to_anchor;
    if (!o->to_time.empty()) {
      int64_t secs = 0;
      if (!ParseUtc(o->to_time, &secs)) return EndCommand(ses, InvalidArgument("--to-time: expected YYYY-MM-DDTHH:MM:SSZ"));
      target.time_ms = secs * 1000 + 999;
    }
    auto ro = ReplayOptionsFor(s->repo(), *s->config(), o->data_dir, o->node_id, target);
    if (!ro.ok()) return EndCommand(ses, ro.status());
    audit::ScopedAuditOp op(s->audit(), "archive-replay",
                            {{"repository", s->url()}, {"data_dir", ro->data_dir}, {"to_height", ro->to_height}});
    EndCommand(
        ses, ops::ReplayBlocks(s->repo(), *ro), op,
        [](const ops::ReplayResult& r) {
          return json{{"from_height", r.from_height}, {"to_height", r.to_height}, {"blocks", r.blocks}, {"transactions", r.transactions},
                      {"seconds", r.seconds}, {"block_hash", crypto::HashToHex(r.block_hash)}, {"state_root", crypto::HashToHex(r.state_root)}};
        },
        [](const ops::ReplayResult& r) {
          return "replayed blocks " + std::to_string(r.from_height + 1) + ".." + std::to_string(r.to_height) + " (" +
                 std::to_string(r.transactions) + " transactions) in " + std::to_string(r.seconds) + " s; state root " +
                 crypto::HashToHex(r.state_root);
        });
  });
}

void SetUpArchive(CLI::App& app, Session& ses) {
  auto* cmd = app.add_subcommand("archive", "The block archive: every block the node commits, in the repository");
  cmd->require_subcommand(1);
  SetUpRun(*cmd, ses);
  SetUpStatus(*cmd, ses);
  SetUpList(*cmd, ses);
  SetUpReplay(*cmd, ses);
}

}  // namespace

void SetUpArchiveCommand(CLI::App& app, Session& s) { SetUpArchive(app, s); }

}  // namespace ailee::cli
