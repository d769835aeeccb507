#include "audit/verify.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>

#include "base/fs.h"

namespace ailee::audit {
namespace {

struct LoadedSegment {
  std::string path;
  SegmentLines lines;
  uint64_t first_seq = 0;  // of its first line; 0 when unparsable or empty
};

// Walks one chain over segments in chain order, line by line, and stops at
// the first bad one. With a single file the messages read as they always
// have ("line N ..."); with several they name the file and the seq.
class ChainWalker {
 public:
  ChainWalker(const std::vector<LoadedSegment>& segments, const VerifyOptions& options)
      : segments_(segments), options_(options), single_(segments.size() == 1) {}

  VerifyReport Run() {
    for (size_t s = 0; s < segments_.size() && report_.ok; ++s) WalkSegment(s);
    if (report_.ok) CheckExpectedHead();
    return std::move(report_);
  }

 private:
  struct Position {
    size_t segment = 0;
    uint64_t line = 0;
  };

  std::string Place(Position p) const {
    if (single_) return "line " + std::to_string(p.line);
    return segments_[p.segment].path + " line " + std::to_string(p.line);
  }
  std::string Where(Position p, uint64_t seq) const {
    return single_ ? Place(p) : Place(p) + " (seq " + std::to_string(seq) + ")";
  }
  // "line N" for a single file; the file, line and seq otherwise.
  std::string WhereSeq(uint64_t seq) const { return Where(where_[seq - report_.first_seq], seq); }

  void Fail(Position p, std::string problem) {
    report_.ok = false;
    report_.first_bad_line = p.line;
    report_.bad_file = segments_[p.segment].path;
    report_.problem = std::move(problem);
  }

  std::string HashOf(uint64_t seq) const {
    if (seq == 0) return kZeroHash;
    if (seq < report_.first_seq) return "";  // before the chain given: unknown
    return hashes_[seq - report_.first_seq];
  }

  void WalkSegment(size_t s) {
    const LoadedSegment& seg = segments_[s];
    SegmentSummary summary;
    summary.path = seg.path;
    summary.lines = seg.lines.complete.size();
    summary.torn_tail_bytes = seg.lines.torn_bytes;
    report_.torn_tail_bytes = seg.lines.torn_bytes;
    bool in_overlap = started_;  // a later segment may begin with lines already seen
    uint64_t duplicates = 0;
    for (size_t i = 0; i < seg.lines.complete.size() && report_.ok; ++i) {
      const Position pos{s, i + 1};
      const std::string& line = seg.lines.complete[i];
      auto rec = ParseLine(line, pos.line);
      if (!rec.ok()) {
        Fail(pos, Place(pos) + " is not an audit record: " + rec.status().message());
        break;
      }
      if (i == 0) summary.first_seq = rec->seq;
      summary.last_seq = rec->seq;
      if (in_overlap && rec->seq <= prev_seq_) {
        if (!SameAsSeen(pos, *rec, line)) break;
        ++duplicates;
        continue;
      }
      in_overlap = false;
      if (!Step(pos, *rec, line, i == 0 && started_)) break;
    }
    summary.duplicate = duplicates > 0 && duplicates == summary.lines;
    report_.segments.push_back(std::move(summary));
  }

  // A line of a later segment whose seq the chain already has: an archived
  // copy of the same line, or a second version of it.
  bool SameAsSeen(Position pos, const AuditRecord& rec, const std::string& line) {
    if (rec.seq < report_.first_seq) {
      Fail(pos, Where(pos, rec.seq) + " is older than the first line given (seq " +
                    std::to_string(report_.first_seq) + ")");
      return false;
    }
    if (HashOf(rec.seq) != LineHash(line)) {
      Fail(pos, Where(pos, rec.seq) + " differs from " + WhereSeq(rec.seq) +
                    ": two versions of the same line (one was altered)");
      return false;
    }
    return true;
  }

  bool StartChain(Position pos, const AuditRecord& rec) {
    if (rec.seq == 1) {
      if (rec.prev != kZeroHash) {
        Fail(pos, Where(pos, 1) + " has prev " + rec.prev + ", expected 64 zeros");
        return false;
      }
    } else if (rec.operation != kContinueOperation) {
      Fail(pos, Where(pos, rec.seq) + " has seq " + std::to_string(rec.seq) + ", expected 1 (line(s) deleted before it)");
      return false;
    }
    started_ = true;
    report_.first_seq = rec.seq;
    prev_seq_ = rec.seq - 1;
    return true;
  }

  // The next line of the chain. `boundary`: the first line of a later file.
  bool Step(Position pos, const AuditRecord& rec, const std::string& line, bool boundary) {
    if (!started_ && !StartChain(pos, rec)) return false;
    const bool first = rec.seq == report_.first_seq && hashes_.empty();
    const std::string expected_prev = first ? rec.prev : HashOf(prev_seq_);
    if (boundary) {
      const Position last = where_.back();
      const std::string prev_file = segments_[last.segment].path;
      if (rec.seq > prev_seq_ + 1) {
        Fail(pos, Where(pos, rec.seq) + " follows " + prev_file + ", which ends at seq " + std::to_string(prev_seq_) +
                      ": seq " + std::to_string(prev_seq_ + 1) + ".." + std::to_string(rec.seq - 1) +
                      " missing (a segment was removed or not given)");
        return false;
      }
      if (rec.prev != expected_prev) {
        Fail(last, WhereSeq(prev_seq_) + " was altered, or " + segments_[pos.segment].path +
                       " does not follow it: the prev of " + Where(pos, rec.seq) + " is not its hash");
        return false;
      }
    } else if (!first) {
      const std::string n = std::to_string(pos.line);
      if (rec.prev != expected_prev && prev_seq_ >= report_.first_seq) {
        const std::string two_back = HashOf(prev_seq_ - 1);
        if (!two_back.empty() && rec.prev == two_back) {
          Fail({pos.segment, pos.line - 1},
               Where({pos.segment, pos.line - 1}, prev_seq_) + " was inserted: " + Where(pos, rec.seq) +
                   " chains to " + (pos.line >= 3 ? Where({pos.segment, pos.line - 2}, prev_seq_ - 1) : "the line before") +
                   " directly");
          return false;
        }
      }
      if (rec.seq != prev_seq_ + 1) {
        std::string what = rec.seq > prev_seq_ + 1 ? "line(s) deleted before it" : "lines reordered or duplicated";
        Fail(pos, Where(pos, rec.seq) + " has seq " + std::to_string(rec.seq) + ", expected " +
                      std::to_string(prev_seq_ + 1) + " (" + what + ")");
        return false;
      }
      if (rec.prev != expected_prev) {
        const Position before{pos.segment, pos.line - 1};
        Fail(before, Where(before, prev_seq_) + " was altered: its hash " + expected_prev +
                         " differs from the prev recorded in " + Where(pos, rec.seq));
        return false;
      }
    }
    if (options_.public_key) {
      if (!rec.sig_hex) {
        Fail(pos, Where(pos, rec.seq) + " is not signed");
        return false;
      }
      if (!VerifyLineSignature(rec, *options_.public_key)) {
        Fail(pos, Where(pos, rec.seq) + " has an invalid signature (forged or altered)");
        return false;
      }
    }
    if (rec.sig_hex) ++report_.signed_lines;
    hashes_.push_back(LineHash(line));
    where_.push_back(pos);
    prev_seq_ = rec.seq;
    ++report_.lines;
    report_.head = {rec.seq, hashes_.back()};
    return true;
  }

  void CheckExpectedHead() {
    if (!options_.expected_head || options_.expected_head->seq == 0 || segments_.empty()) return;
    const AuditHead& want = *options_.expected_head;
    if (want.seq > prev_seq_) {
      const std::string end = hashes_.empty() ? "no line" : WhereSeq(prev_seq_);
      const Position after = hashes_.empty() ? Position{segments_.size() - 1, 1}
                                             : Position{where_.back().segment, where_.back().line + 1};
      Fail(after, single_ ? "the log ends at line " + std::to_string(after.line - 1) + " but the recorded head is line " +
                                std::to_string(want.seq) + " (" + want.hash + "): the tail was truncated"
                          : "the chain ends at " + end + " but the recorded head is seq " + std::to_string(want.seq) +
                                " (" + want.hash + "): the tail was truncated");
      return;
    }
    if (want.seq < report_.first_seq) return;  // in a segment not given
    if (HashOf(want.seq) != want.hash) {
      Fail(where_[want.seq - report_.first_seq],
           WhereSeq(want.seq) + " has hash " + HashOf(want.seq) + ", but the recorded head says " + want.hash);
    }
  }

  const std::vector<LoadedSegment>& segments_;
  const VerifyOptions& options_;
  const bool single_;
  VerifyReport report_;
  bool started_ = false;
  uint64_t prev_seq_ = 0;
  std::vector<std::string> hashes_;  // by seq - first_seq
  std::vector<Position> where_;      // by seq - first_seq
};

Result<LoadedSegment> LoadSegment(const std::string& path) {
  LoadedSegment seg;
  seg.path = path;
  ASSIGN_OR_RETURN(seg.lines, ReadSegment(path));
  if (!seg.lines.complete.empty()) {
    auto rec = ParseLine(seg.lines.complete.front(), 1);
    if (rec.ok()) seg.first_seq = rec->seq;
  }
  return seg;
}

// Segments whose logrotate names contradict their order in the chain.
void CheckNames(const std::vector<LoadedSegment>& segments, const std::string& log_name, VerifyReport& report) {
  std::vector<std::pair<const LoadedSegment*, NamedAge>> named;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].lines.complete.empty() || report.segments[i].duplicate) continue;
    auto age = NamedAgeOf(log_name, fs::Basename(segments[i].path));
    if (age) named.emplace_back(&segments[i], *age);
  }
  for (size_t i = 0; i < named.size(); ++i) {
    for (size_t j = i + 1; j < named.size(); ++j) {
      if (fs::Dirname(named[i].first->path) != fs::Dirname(named[j].first->path)) continue;
      if (!NamedOlder(named[j].second, named[i].second)) continue;
      report.ok = false;
      report.bad_file = named[j].first->path;
      report.first_bad_line = 1;
      report.problem = named[j].first->path + " (from seq " + std::to_string(named[j].first->first_seq) +
                       ") is named older than " + named[i].first->path + " (from seq " +
                       std::to_string(named[i].first->first_seq) + "): the segments were swapped or renamed";
      return;
    }
  }
}

}  // namespace

Result<VerifyReport> VerifyAuditLog(const std::string& path, const VerifyOptions& options) {
  ASSIGN_OR_RETURN(LoadedSegment seg, LoadSegment(path));
  std::vector<LoadedSegment> one{std::move(seg)};
  return ChainWalker(one, options).Run();
}

Result<VerifyReport> VerifyAuditSegments(const std::vector<std::string>& paths, const VerifyOptions& options,
                                         const std::string& log_name) {
  std::vector<LoadedSegment> segments;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(LoadedSegment seg, LoadSegment(path));
    segments.push_back(std::move(seg));
  }
  // Chain order: by first seq; files without a line first (listed, skipped).
  std::stable_sort(segments.begin(), segments.end(),
                   [](const LoadedSegment& a, const LoadedSegment& b) { return a.first_seq < b.first_seq; });
  VerifyReport report = ChainWalker(segments, options).Run();
  if (report.ok && !log_name.empty()) CheckNames(segments, log_name, report);
  return report;
}

Result<std::vector<AuditRecord>> ReadAuditLog(const std::string& path, const AuditFilter& filter) {
  ASSIGN_OR_RETURN(SegmentLines lines, ReadSegment(path));
  std::vector<AuditRecord> out;
  for (size_t i = 0; i < lines.complete.size(); ++i) {
    auto rec = ParseLine(lines.complete[i], i + 1);
    if (!rec.ok()) {
      return rec.status().WithContext("audit log " + path + " line " + std::to_string(i + 1));
    }
    if (filter.since && rec->time_unix < *filter.since) continue;
    if (filter.until && rec->time_unix >= *filter.until) continue;
    if (!filter.operation.empty()) {
      const std::string& f = filter.operation;
      bool match = f.back() == '.' ? rec->operation.rfind(f, 0) == 0 : rec->operation == f;
      if (!match) continue;
    }
    out.push_back(std::move(rec).value());
  }
  return out;
}

}  // namespace ailee::audit
