#include "node/background_proof.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "base/clock.h"
#include "base/fs.h"
#include "base/hint.h"
#include "base/scratch.h"
#include "state/verify.h"

namespace ailee::node {

namespace {

std::string Normal(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  return ec ? path : p.string();
}

std::string CheckpointPrefix(const std::string& data_dir) { return "." + fs::Basename(data_dir) + ".proof-"; }

// Every failed proof's message starts so (IsFailedProof keys on it).
constexpr char kFailedProofPrefix[] = "the restored state (";

}  // namespace

Status RecordFailedProof(const std::string& data_dir_in, const state::ProofPending& marker,
                         const std::string& problem) {
  std::string dir = data_dir_in;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  state::ProofPending m = marker;
  m.last_failure = problem;
  m.failed_unix = Clock::Real().NowMillis() / 1000;
  Status recorded = state::WriteProofPending(dir, m);
  if (!recorded.ok()) spdlog::error("recording the failed proof in the marker: {}", recorded.ToString());
  std::string hint = "restore again (`ailee-cli restore SNAPSHOT --target " + dir +
                     " --force`, another snapshot, or without --prove-in-background to prove before the swap)";
  if (!m.previous_dir.empty() && fs::IsDirectory(m.previous_dir)) {
    hint += ", or put the previous data dir back: `mv " + dir + " " + dir + ".unproven && mv " + m.previous_dir +
            " " + dir + "`";
  }
  hint += "; until then the node refuses to sign or serve this state (" + std::string(state::kProofPendingName) +
          " stays)";
  return WithHint(DataLoss(kFailedProofPrefix + m.source + ", height " + std::to_string(m.height) +
                           ") does not prove out: " + problem),
                  hint);
}

bool IsFailedProof(const Status& st) {
  return st.code() == StatusCode::kDataLoss && MessageWithoutHint(st).rfind(kFailedProofPrefix, 0) == 0;
}

Status FailedProofIfPending(const std::string& data_dir, const Status& open_error) {
  if (open_error.code() != StatusCode::kDataLoss) return open_error;
  auto pending = state::ReadProofPending(data_dir);
  if (!pending.ok() || !*pending) return open_error;
  return RecordFailedProof(data_dir, **pending,
                           "its database does not open: " + std::string(MessageWithoutHint(open_error)));
}

BackgroundProof::BackgroundProof(BackgroundProofOptions options) : options_(std::move(options)) {
  while (!options_.data_dir.empty() && options_.data_dir.back() == '/') options_.data_dir.pop_back();
  progress_.state = "running";
}

BackgroundProof::~BackgroundProof() {
  Cancel();
  Join();
}

void BackgroundProof::Start(state::StateDb& db, std::function<void(const Status&)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.started_at_ms = Clock::Real().NowMillis();
    started_ns_ = Clock::Real().MonotonicNanos();
  }
  thread_ = std::thread([this, &db, done = std::move(done)] { Run(db, done); });
}

void BackgroundProof::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_ = true;
  }
  cv_.notify_all();
}

void BackgroundProof::Join() {
  if (thread_.joinable()) thread_.join();
}

ProofProgress BackgroundProof::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return progress_;
}

void BackgroundProof::OnProgress(const std::string& phase, uint64_t done, uint64_t total) {
  std::unique_lock<std::mutex> lock(mu_);
  progress_.phase = phase;
  progress_.done = done;
  progress_.total = total;
  const int64_t pace = options_.max_blocks_per_second;
  if (pace <= 0 || phase != "blocks") return;
  // Block `done` may start at started + done/pace seconds.
  const int64_t due_ns = started_ns_ + static_cast<int64_t>(done) * 1'000'000'000 / pace;
  const int64_t wait_ns = due_ns - Clock::Real().MonotonicNanos();
  if (wait_ns > 0) cv_.wait_for(lock, std::chrono::nanoseconds(wait_ns), [this] { return cancel_.load(); });
}

void BackgroundProof::Run(state::StateDb& db, const std::function<void(const Status&)>& done) {
  Status st = Prove(db);
  {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.finished_at_ms = Clock::Real().NowMillis();
    if (st.ok()) {
      progress_.state = "proven";
    } else if (!(st.code() == StatusCode::kAborted && cancel_)) {
      progress_.state = "failed";
      progress_.problem = std::string(MessageWithoutHint(st));
    }
  }
  if (st.code() == StatusCode::kAborted && cancel_) return;
  if (st.ok()) proven_ = true;
  done(st);
}

Status BackgroundProof::Fail(const std::string& problem) {
  return RecordFailedProof(options_.data_dir, options_.marker, problem);
}

Status BackgroundProof::Prove(state::StateDb& db) {
  const std::string& dir = options_.data_dir;
  const std::string parent = fs::Dirname(dir);
  fs::RemoveAbandoned(parent, CheckpointPrefix(dir));  // a killed run's
  const std::string checkpoint = fs::JoinPath(parent, fs::ScratchName(CheckpointPrefix(dir)));
  auto taken = db.CreateCheckpoint(checkpoint);
  if (!taken.ok()) {
    (void)fs::RemoveAll(checkpoint);
    return taken.status().WithContext("taking the checkpoint the background proof reads");
  }
  state::VerifyOptions vo;
  vo.federation = options_.federation;
  vo.expected_state_root = options_.marker.state_root;
  vo.cancel = &cancel_;
  vo.progress = [this](const state::VerifyProgress& p) { OnProgress(p.phase, p.done, p.total); };
  auto report = state::VerifyState(checkpoint, vo);
  Status removed = fs::RemoveAll(checkpoint);
  if (!removed.ok()) spdlog::warn("removing the proof's checkpoint: {}", removed.ToString());
  if (!report.ok()) return report.status().WithContext("background proof of " + dir);
  const auto& m = options_.marker;
  std::string problem;
  if (!report->problems.empty()) problem = report->problems.front();
  else if (!report->ok) problem = "verification failed";
  else if (report->tip_height != m.height)
    problem = "the tip is height " + std::to_string(report->tip_height) + ", the restore said " + std::to_string(m.height);
  else if (report->tip_block_hash != m.block_hash)
    problem = "the tip block hash " + crypto::HashToHex(report->tip_block_hash) + " differs from the restore's " +
              crypto::HashToHex(m.block_hash);
  if (!problem.empty()) {
    if (report->problems_total > 1) problem += " (and " + std::to_string(report->problems_total - 1) + " more)";
    return Fail(problem);
  }
  // Proven: from here the node may sign and serve, so the marker goes first
  // (durably); a crash before the kept-aside tree is removed leaves only disk.
  RETURN_IF_ERROR(state::ClearProofPending(dir).WithContext("removing the proof-pending marker after the proof passed"));
  if (!m.previous_dir.empty() && Normal(m.previous_dir) == Normal(state::KeptAsideDir(dir))) {
    Status gone = fs::RemoveAll(m.previous_dir);
    if (gone.ok()) spdlog::info("removed the data dir kept aside until the proof passed: {}", m.previous_dir);
    else spdlog::warn("removing the data dir kept aside until the proof: {}", gone.ToString());
  }
  return Status::Ok();
}

}  // namespace ailee::node
