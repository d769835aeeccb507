#include "repo/block_archive.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>

#include "crypto/aead.h"
#include "state/encoding.h"

namespace ailee::repo {
namespace {

constexpr std::string_view kSegmentAd = "ailee-blockseg-v1";
constexpr std::string_view kSegmentMagic = "ailee.blockseg.v1";
constexpr uint32_t kMaxBlockBytes = 1u << 30;

std::string Height20(uint64_t h) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(h));
  return buf;
}

bool ParseHeight20(std::string_view s, uint64_t* out) {
  if (s.size() != 20) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool ValidNodeId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  }) && id != "." && id != "..";
}

// Contiguous heights, each block linked to the one before.
Status CheckChained(const std::vector<state::Block>& blocks, const std::string& what) {
  for (size_t i = 1; i < blocks.size(); ++i) {
    const auto& prev = blocks[i - 1].header;
    const auto& cur = blocks[i].header;
    if (cur.height != prev.height + 1) {
      return InvalidArgument(what + ": block " + std::to_string(cur.height) + " follows block " +
                             std::to_string(prev.height) + " (heights must be contiguous)");
    }
    if (cur.prev_hash != prev.Hash()) {
      return InvalidArgument(what + ": block " + std::to_string(cur.height) + " does not link to block " +
                             std::to_string(prev.height) + " (prev_hash " + crypto::HashToHex(cur.prev_hash) +
                             ", block " + std::to_string(prev.height) + " hashes to " +
                             crypto::HashToHex(prev.Hash()) + ")");
    }
  }
  return Status::Ok();
}

std::string EncodeSegment(const BlockSegment& s) {
  std::string out;
  state::PutBytes(&out, kSegmentMagic);
  state::PutBytes(&out, s.node_id);
  state::PutBytes(&out, crypto::HashToString(s.chain_id));
  state::PutU64(&out, s.blocks.front().header.height);
  state::PutU64(&out, s.blocks.back().header.height);
  state::PutU32(&out, static_cast<uint32_t>(s.blocks.size()));
  for (const auto& b : s.blocks) state::PutBytes(&out, state::EncodeBlock(b));
  return out;
}

Result<BlockSegment> DecodeSegment(std::string_view text, const std::string& what, uint64_t* first, uint64_t* last) {
  state::Reader r(text);
  std::string magic, chain;
  BlockSegment s;
  uint32_t n = 0;
  if (!r.Bytes(&magic, 64) || magic != kSegmentMagic) return DataLoss(what + ": not a block segment (bad magic)");
  if (!r.Bytes(&s.node_id, 256) || !r.Bytes(&chain, 32) || chain.size() != 32 || !r.U64(first) || !r.U64(last) ||
      !r.U32(&n)) {
    return DataLoss(what + ": malformed segment header");
  }
  std::copy(chain.begin(), chain.end(), s.chain_id.begin());
  if (*last < *first || n != *last - *first + 1) {
    return DataLoss(what + ": holds " + std::to_string(n) + " blocks for heights " + std::to_string(*first) + ".." +
                    std::to_string(*last));
  }
  s.blocks.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::string raw;
    if (!r.Bytes(&raw, kMaxBlockBytes)) return DataLoss(what + ": truncated at block " + std::to_string(*first + i));
    auto block = state::DecodeBlock(raw);
    if (!block.ok()) return block.status().WithContext(what + " block " + std::to_string(*first + i));
    s.blocks.push_back(std::move(block).value());
  }
  if (!r.done()) return DataLoss(what + ": trailing bytes after the last block");
  return s;
}

}  // namespace

std::string BlockSegmentName::key() const {
  return std::string(kBlocksPrefix) + node_id + "/" + Height20(first) + "-" + Height20(last) + "-" + IdHex(id);
}

std::string BlockSegmentName::range() const { return std::to_string(first) + ".." + std::to_string(last); }

Result<BlockSegmentName> ParseBlockSegmentKey(std::string_view key) {
  auto bad = [&] { return InvalidArgument("\"" + std::string(key) + "\" is not a block segment name"); };
  if (key.substr(0, kBlocksPrefix.size()) != kBlocksPrefix) return bad();
  std::string_view rest = key.substr(kBlocksPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad();
  BlockSegmentName n;
  n.node_id = std::string(rest.substr(0, slash));
  std::string_view file = rest.substr(slash + 1);
  // <20>-<20>-<64>
  if (!ValidNodeId(n.node_id) || file.size() != 20 + 1 + 20 + 1 + 64 || file[20] != '-' || file[41] != '-') {
    return bad();
  }
  if (!ParseHeight20(file.substr(0, 20), &n.first) || !ParseHeight20(file.substr(21, 20), &n.last) ||
      n.first == 0 || n.last < n.first) {
    return bad();
  }
  auto id = ParseId(file.substr(42));
  if (!id.ok()) return bad();
  n.id = *id;
  return n;
}

Result<std::vector<BlockSegmentName>> ListBlockSegments(storage::ObjectStore& store, std::string_view node_id) {
  std::string prefix(kBlocksPrefix);
  if (!node_id.empty()) prefix += std::string(node_id) + "/";
  ASSIGN_OR_RETURN(auto objects, store.List(prefix));
  std::vector<BlockSegmentName> out;
  for (const auto& o : objects) {
    auto name = ParseBlockSegmentKey(o.key);
    if (name.ok()) out.push_back(std::move(name).value());
  }
  std::sort(out.begin(), out.end(), [](const BlockSegmentName& a, const BlockSegmentName& b) {
    if (a.node_id != b.node_id) return a.node_id < b.node_id;
    if (a.first != b.first) return a.first < b.first;
    return a.last < b.last;
  });
  return out;
}

Result<SealedBlockSegment> SealBlockSegment(const Repository& repo, const BlockSegment& segment) {
  if (segment.blocks.empty()) return InvalidArgument("an empty block segment cannot be sealed");
  if (!ValidNodeId(segment.node_id)) return InvalidArgument("block segment: bad node id \"" + segment.node_id + "\"");
  RETURN_IF_ERROR(CheckChained(segment.blocks, "block segment of node " + segment.node_id));
  SealedBlockSegment out;
  ASSIGN_OR_RETURN(out.bytes, crypto::AeadSeal(repo.master_key().data_key, EncodeSegment(segment), kSegmentAd));
  out.name.node_id = segment.node_id;
  out.name.first = segment.blocks.front().header.height;
  out.name.last = segment.blocks.back().header.height;
  out.name.id = crypto::Sha256(out.bytes);
  return out;
}

Result<BlockSegment> OpenBlockSegment(const Repository& repo, const BlockSegmentName& name, std::string_view bytes) {
  const std::string what = "block segment " + name.key();
  if (crypto::Sha256(bytes) != name.id) {
    return DataLoss(what + " in " + repo.Location() +
                    " is damaged: content does not match its name (truncated or modified)");
  }
  auto plain = crypto::AeadOpen(repo.master_key().data_key, bytes, kSegmentAd);
  if (!plain.ok()) {
    return DataLoss(what + " in " + repo.Location() +
                    " fails authentication (edited, damaged, or from another repository)");
  }
  uint64_t first = 0, last = 0;
  ASSIGN_OR_RETURN(BlockSegment s, DecodeSegment(*plain, what, &first, &last));
  if (s.node_id != name.node_id) {
    return DataLoss(what + " refused: it holds blocks of node \"" + s.node_id + "\", not of node \"" + name.node_id +
                    "\" (moved from another node's archive)");
  }
  if (first != name.first || last != name.last) {
    return DataLoss(what + " refused: it holds heights " + std::to_string(first) + ".." + std::to_string(last) +
                    ", its name says " + name.range());
  }
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    if (s.blocks[i].header.height != first + i) {
      return DataLoss(what + ": block " + std::to_string(i) + " has height " + std::to_string(s.blocks[i].header.height) +
                      ", expected " + std::to_string(first + i));
    }
    if (state::TxRoot(s.blocks[i].transactions) != s.blocks[i].header.tx_root) {
      return DataLoss(what + ": block " + std::to_string(first + i) + "'s transactions do not match its tx root");
    }
  }
  if (Status st = CheckChained(s.blocks, what); !st.ok()) return DataLoss(st.message());
  if (first == 1 && s.blocks.front().header.Hash() != s.chain_id) {
    return DataLoss(what + " refused: its chain id is not the hash of its block 1");
  }
  return s;
}

Result<BlockSegment> LoadBlockSegment(const Repository& repo, const BlockSegmentName& name) {
  auto bytes = repo.store().Get(name.key());
  if (!bytes.ok()) return bytes.status().WithContext("load block segment " + name.key());
  return OpenBlockSegment(repo, name, *bytes);
}

Result<BlockArchiveTail> ReadBlockArchiveTail(const Repository& repo, std::string_view node_id) {
  ASSIGN_OR_RETURN(auto segments, ListBlockSegments(repo.store(), node_id));
  BlockArchiveTail tail;
  tail.segments = segments.size();
  if (segments.empty()) return tail;
  const BlockSegmentName* last = &segments.back();
  for (const auto& s : segments) {
    if (s.last > last->last) last = &s;  // an overlap: the highest end is the tail
  }
  ASSIGN_OR_RETURN(BlockSegment seg, LoadBlockSegment(repo, *last));
  const auto& h = seg.blocks.back().header;
  tail.height = h.height;
  tail.block_hash = h.Hash();
  tail.chain_id = seg.chain_id;
  tail.timestamp_ms = h.timestamp_ms;
  return tail;
}

// The caller's tail may be stale: another writer (a second archiver with
// its own buffer dir, or on another host) may have appended since it was
// read. The listing right before the write is the last chance to see that.
Status RefuseOverlap(const Repository& repo, const BlockSegmentName& name) {
  ASSIGN_OR_RETURN(auto existing, ListBlockSegments(repo.store(), name.node_id));
  for (const auto& other : existing) {
    if (other.key() == name.key()) continue;  // this very segment: a retried upload
    if (other.first > name.last || other.last < name.first) continue;
    return FailedPrecondition(
        "block segment " + name.range() + " of node " + name.node_id + " overlaps segment " + other.range() +
        " already in " + repo.Location() + " at heights " + std::to_string(std::max(name.first, other.first)) + ".." +
        std::to_string(std::min(name.last, other.last)) +
        ": another writer archives this node (a second `archive run` with another buffer dir or on another "
        "host?); not written. Keep one archiver per node.");
  }
  return Status::Ok();
}

Status AppendBlockSegment(const Repository& repo, const BlockArchiveTail& tail, const SealedBlockSegment& sealed) {
  ASSIGN_OR_RETURN(BlockSegment seg, OpenBlockSegment(repo, sealed.name, sealed.bytes));
  const auto& first = seg.blocks.front().header;
  if (first.height != tail.height + 1) {
    return FailedPrecondition("block segment " + sealed.name.range() + " of node " + sealed.name.node_id +
                              " does not follow the archive, which ends at height " + std::to_string(tail.height));
  }
  if (first.prev_hash != tail.block_hash) {
    return FailedPrecondition("block " + std::to_string(first.height) + " of node " + sealed.name.node_id +
                              " does not link to archived block " + std::to_string(tail.height) + " (prev_hash " +
                              crypto::HashToHex(first.prev_hash) + ", archived " + crypto::HashToHex(tail.block_hash) +
                              "): the node's chain is not the archived one");
  }
  if (tail.height > 0 && seg.chain_id != tail.chain_id) {
    return FailedPrecondition("block segment " + sealed.name.range() + " names another chain than the archive of node " +
                              sealed.name.node_id);
  }
  RETURN_IF_ERROR(RefuseOverlap(repo, sealed.name));
  Status st = repo.store().PutIfAbsent(sealed.name.key(), sealed.bytes);
  if (st.code() == StatusCode::kAlreadyExists) return Status::Ok();
  return st;
}

std::vector<BlockRangeProblem> FindRangeProblems(const std::vector<BlockSegmentName>& segments) {
  std::vector<BlockRangeProblem> out;
  for (size_t i = 1; i < segments.size(); ++i) {
    const auto& a = segments[i - 1];
    const auto& b = segments[i];
    if (a.node_id != b.node_id) continue;
    const std::string object = "block archive " + a.node_id;
    if (b.first > a.last + 1) {
      out.push_back({object, "blocks " + std::to_string(a.last + 1) + ".." + std::to_string(b.first - 1) +
                                 " are missing (gap between segments " + a.range() + " and " + b.range() + ")"});
    } else if (b.first <= a.last) {
      out.push_back({object, "segments " + a.range() + " and " + b.range() + " overlap at heights " +
                                 std::to_string(b.first) + ".." + std::to_string(std::min(a.last, b.last))});
    }
  }
  return out;
}

Status ForEachArchivedBlock(const Repository& repo, std::string_view node_id, uint64_t from, uint64_t to,
                            const std::function<Status(const state::Block&)>& fn) {
  if (from == 0 || to < from) {
    return InvalidArgument("block range " + std::to_string(from) + ".." + std::to_string(to) + " is empty");
  }
  const std::string node(node_id);
  ASSIGN_OR_RETURN(auto segments, ListBlockSegments(repo.store(), node));
  if (segments.empty()) return NotFound("no archived blocks of node " + node + " in " + repo.Location());
  uint64_t latest = 0;
  for (const auto& s : segments) latest = std::max(latest, s.last);
  if (to > latest) {
    return NotFound("height " + std::to_string(to) + " is beyond the block archive of node " + node +
                    ": the latest archived height is " + std::to_string(latest));
  }
  uint64_t next = from;
  std::optional<crypto::Hash256> prev_hash, chain_id;
  for (const auto& name : segments) {
    if (next > to) break;
    if (name.last < next) continue;
    if (name.first > next) {
      return DataLoss("block archive of node " + node + ": blocks " + std::to_string(next) + ".." +
                      std::to_string(name.first - 1) + " are missing (the next segment is " + name.range() + ")");
    }
    ASSIGN_OR_RETURN(BlockSegment seg, LoadBlockSegment(repo, name));
    if (chain_id && *chain_id != seg.chain_id) {
      return DataLoss("block segment " + name.key() + " refused: it belongs to another chain than the segments before it");
    }
    chain_id = seg.chain_id;
    for (const auto& b : seg.blocks) {
      if (b.header.height < next) continue;
      if (b.header.height > to) break;
      if (prev_hash && b.header.prev_hash != *prev_hash) {
        return DataLoss("block archive of node " + node + ": block " + std::to_string(b.header.height) +
                        " (segment " + name.range() + ") does not link to block " + std::to_string(next - 1));
      }
      RETURN_IF_ERROR(fn(b));
      prev_hash = b.header.Hash();
      next = b.header.height + 1;
    }
  }
  if (next <= to) {
    return DataLoss("block archive of node " + node + ": blocks " + std::to_string(next) + ".." + std::to_string(to) +
                    " are missing");
  }
  return Status::Ok();
}

}  // namespace ailee::repo
