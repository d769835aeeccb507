// The block archive: every block a node commits, kept in the repository in
// append-only *segments* so that a state snapshot can be rolled forward to
// any later height (point-in-time recovery). Format: docs/repository-format.md
// section 11.
//
// A segment is one immutable object holding the complete blocks (header,
// signature, transactions, anchor: state::EncodeBlock) of one contiguous
// height range of one node's chain, sealed with AES-256-GCM under the data
// key (AD "ailee-blockseg-v1") and named
//   blocks/<node_id>/<first:020>-<last:020>-<sha256 of the stored bytes>
// so that a listing gives every range without the key, and damage is found
// without it. The node id, chain id (hash of block 1) and range are inside the
// authenticated content too, and a reader refuses a segment whose content
// does not match its name.
//
// Invariants a writer keeps (AppendBlockSegment): a new segment starts at
// the archive's last height + 1 and its first block's prev_hash is the last
// archived block's hash, so gaps and overlaps cannot be written by one
// writer; the node's segments are listed again right before the write and
// one overlapping the new range refuses it, so a second writer is stopped
// rather than interleaved. Readers (ForEachArchivedBlock, CheckBlockArchive) still check
// every link and name any gap, overlap or broken link by its heights.
//
// Crash safety: a segment is written with PutIfAbsent under its final name
// (atomic); a crash leaves it either absent or complete. One writer per node.
//
// Thread safety: free functions; as safe as the Repository and store.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "repo/repository.h"
#include "state/block.h"

namespace ailee::repo {

inline constexpr std::string_view kBlocksPrefix = "blocks/";

// A segment's name, parsed from its key (no key needed).
struct BlockSegmentName {
  std::string node_id;
  uint64_t first = 0;
  uint64_t last = 0;
  Id id{};  // SHA-256 of the stored bytes
  std::string key() const;
  std::string range() const;  // "first..last"
};

// kInvalidArgument when `key` is not a segment's name (foreign files).
Result<BlockSegmentName> ParseBlockSegmentKey(std::string_view key);

// Every segment of `node_id` (empty: of every node), sorted by node then
// first height. Reads only the listing.
Result<std::vector<BlockSegmentName>> ListBlockSegments(storage::ObjectStore& store, std::string_view node_id);

// The content of a segment.
struct BlockSegment {
  std::string node_id;
  crypto::Hash256 chain_id{};  // hash of the chain's block 1
  std::vector<state::Block> blocks;  // contiguous heights, linked by prev_hash
};

// A segment ready to store: its name and stored bytes. Made without I/O, so
// the archiver can keep it in its local buffer while the repository is away.
struct SealedBlockSegment {
  BlockSegmentName name;
  std::string bytes;
};

// kInvalidArgument for an empty segment, non-contiguous heights or a block
// whose prev_hash is not the previous block's hash.
Result<SealedBlockSegment> SealBlockSegment(const Repository& repo, const BlockSegment& segment);
// Checks the name (SHA-256), authentication (kDataLoss "fails authentication"),
// that the content is the node and range the name says (kDataLoss "refused"),
// contiguity, links and each block's tx root.
Result<BlockSegment> OpenBlockSegment(const Repository& repo, const BlockSegmentName& name, std::string_view bytes);
Result<BlockSegment> LoadBlockSegment(const Repository& repo, const BlockSegmentName& name);

// The end of a node's archive (height 0 and zero hash when it is empty).
struct BlockArchiveTail {
  uint64_t height = 0;
  crypto::Hash256 block_hash{};
  crypto::Hash256 chain_id{};
  int64_t timestamp_ms = 0;
  size_t segments = 0;
};
// Loads the last segment to learn its last block.
Result<BlockArchiveTail> ReadBlockArchiveTail(const Repository& repo, std::string_view node_id);

// Stores `sealed` as the segment after `tail`. kFailedPrecondition when it
// does not start at tail.height + 1 or does not link to tail.block_hash, or
// when its chain id differs, or when the node's segments, listed again right
// before the write, hold another segment overlapping its range (a second
// writer appended since `tail` was read; the error names both ranges).
// kAlreadyExists is success (a retried upload of the same bytes). Store
// errors (kUnavailable...) are passed on. Cost: one listing of the node's
// segments per append. Two writers racing within the listing-to-write window
// can still both write; verify reports that overlap.
Status AppendBlockSegment(const Repository& repo, const BlockArchiveTail& tail, const SealedBlockSegment& sealed);

// Calls `fn` with every archived block of `node_id` from `from` to `to`
// (inclusive) in height order, each linked to the one before. kNotFound
// naming the latest archived height when `to` is beyond the archive;
// kDataLoss naming the missing range for a gap, and naming the segment for
// damage or a broken link. `fn` may stop the walk by returning an error.
Status ForEachArchivedBlock(const Repository& repo, std::string_view node_id, uint64_t from, uint64_t to,
                            const std::function<Status(const state::Block&)>& fn);

// Gaps (missing heights) and overlaps between consecutive segments of one
// node, from a sorted listing (ListBlockSegments). No key needed.
struct BlockRangeProblem {
  std::string object;   // "block archive <node>" or the segment key
  std::string message;  // names the heights
};
std::vector<BlockRangeProblem> FindRangeProblems(const std::vector<BlockSegmentName>& segments);

}  // namespace ailee::repo
