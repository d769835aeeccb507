// S3ObjectStore::PutIfAbsent: conditional PUT where the server honours
// "If-None-Match: *", else the claim protocol.
//
// Claim protocol for key K (claims live under "K.claims/"):
//   1. K exists -> kAlreadyExists. A fresh claim exists -> kAlreadyExists
//      (another writer is creating K). Claims older than
//      claim_stale_after_ms (by the server's clock) were left by a killed
//      writer: they are deleted and ignored.
//   2. PUT K.claims/<random 128-bit hex> (our claim), then repeatedly LIST:
//      - only our claim: HEAD K; absent -> write K, withdraw, done;
//        present -> withdraw, kAlreadyExists;
//      - a smaller claim than ours: withdraw, kAlreadyExists (its owner
//        goes on; it wins or sees K);
//      - ours is the smallest among several: wait for the others to
//        withdraw (each of them sees ours, smaller) and LIST again.
// Why at most one winner: a winner A listed only its claim a, then HEAD
// found no K. For a second winner B the same holds for b. If neither claim
// was gone at the other's LIST, A's LIST preceded b's PUT and B's LIST
// preceded a's PUT, while each PUT precedes its own LIST: a cycle. A claim
// is gone early only if its owner withdrew as a loser, or won and had
// already written K, in which case the other's HEAD (after its LIST) sees K.
// This needs strongly consistent LIST and HEAD, and it assumes a writer
// finishes within claim_stale_after_ms / 2 (it gives up otherwise).
#include <algorithm>

#include "storage/s3/s3_hash.h"
#include "storage/s3/s3_object_store.h"

namespace ailee::storage::s3 {
namespace {

constexpr std::string_view kProbeKey = ".conditional-put-probe.claims/";

}  // namespace

Status S3ObjectStore::PutIfAbsent(const std::string& key, std::string_view data) {
  RETURN_IF_ERROR(CheckKey(key));
  RETURN_IF_ERROR(EnsureLockReady());
  switch (client_.config().options.put_if_absent) {
    case CreateMode::kConditional:
      return PutConditional(key, data);
    case CreateMode::kClaims:
      return PutWithClaims(key, data);
    case CreateMode::kAuto:
      break;
  }
  ASSIGN_OR_RETURN(bool conditional, ConditionalPutSupported());
  return conditional ? PutConditional(key, data) : PutWithClaims(key, data);
}

// Two conditional PUTs of a probe object: a server that honours
// If-None-Match answers 412 to the second; one that ignores it answers 200
// (and would let two creators both "win"); Swift answers 501.
Result<bool> S3ObjectStore::ConditionalPutSupported() {
  if (int known = conditional_put_.load(); known >= 0) return known == 1;
  std::lock_guard lock(probe_mu_);
  if (int known = conditional_put_.load(); known >= 0) return known == 1;
  S3Request req;
  req.method = "PUT";
  ASSIGN_OR_RETURN(std::string probe, RandomHex(16));
  req.object = client_.ObjectName(std::string(kProbeKey) + probe);
  req.headers = {"if-none-match: *"};
  req.body = "probe";
  req.content_md5 = true;
  req.accept = {400, 412, 501};
  const std::string what = "probe conditional PUT support";
  ASSIGN_OR_RETURN(S3Response first, client_.Send(req, what));
  bool supported = false;
  if (first.status / 100 == 2) {
    ASSIGN_OR_RETURN(S3Response second, client_.Send(req, what));
    supported = second.status == 412;
    (void)client_.Delete(req.object, "delete conditional PUT probe");
  }
  conditional_put_ = supported ? 1 : 0;
  return supported;
}

Status S3ObjectStore::PutConditional(const std::string& key, std::string_view data) {
  const std::string what = "create object " + key;
  ASSIGN_OR_RETURN(const std::string sha256, Sha256Hex(data));
  // A token of this call: if an attempt created the object but its answer
  // was lost, the retry gets 412, and the token tells it the object is ours.
  ASSIGN_OR_RETURN(const std::string token, RandomHex(16));
  S3Request req;
  req.method = "PUT";
  req.object = client_.ObjectName(key);
  req.headers = PutHeaders(key, sha256);
  req.headers.push_back("if-none-match: *");
  req.headers.push_back("x-amz-meta-ailee-create-token: " + token);
  req.body = data;
  req.body_sha256 = sha256;
  req.content_md5 = true;
  req.accept = {412, 501};
  ASSIGN_OR_RETURN(S3Response resp, client_.Send(req, what));
  if (resp.status == 412) {
    if (resp.attempts > 1) {
      ASSIGN_OR_RETURN(auto head, Head(req.object, what));
      if (head && head->header("x-amz-meta-ailee-create-token") == token) return Status::Ok();
    }
    return AlreadyExists(what + " in " + Location() + ": already exists");
  }
  if (resp.status == 501) {
    if (client_.config().options.put_if_absent == CreateMode::kConditional) return client_.ErrorFor(resp, what);
    conditional_put_ = 0;
    return PutWithClaims(key, data);
  }
  return Status::Ok();
}

Status S3ObjectStore::PutWithClaims(const std::string& key, std::string_view data) {
  const std::string what = "create object " + key;
  const std::string object = client_.ObjectName(key);
  const std::string claims = object + ".claims/";
  ASSIGN_OR_RETURN(auto existing, Head(object, what));
  if (existing) return AlreadyExists(what + " in " + Location() + ": already exists");

  ASSIGN_OR_RETURN(Listing before, ListRaw(claims, what + " (list claims)"));
  const int64_t stale_ms = client_.config().options.claim_stale_after_ms;
  for (const auto& c : before.objects) {
    if (before.server_now_ms - c.last_modified_ms < stale_ms) {
      return AlreadyExists(what + " in " + Location() + ": another writer is creating it (claim " + c.key + ")");
    }
    RETURN_IF_ERROR(client_.Delete(c.key, what + " (remove abandoned claim)"));
  }

  ASSIGN_OR_RETURN(const std::string mine, RandomHex(16));
  S3Request claim;
  claim.method = "PUT";
  claim.object = claims + mine;
  claim.content_md5 = true;
  RETURN_IF_ERROR(client_.Send(claim, what + " (claim)").status());
  Status st = ClaimAndCreate(key, data, claims, mine);
  Status wst = client_.Delete(claims + mine, what + " (withdraw claim)");
  // A claim left behind blocks other creators until it is stale; say so,
  // but the outcome for this caller is `st`.
  if (st.ok() || wst.ok()) return st;
  return Status(st.code(), st.message() + " (and withdrawing claim " + mine + " failed: " + wst.message() + ")");
}

Status S3ObjectStore::ClaimAndCreate(const std::string& key, std::string_view data, const std::string& claims,
                                     const std::string& mine) {
  const std::string what = "create object " + key;
  const std::string object = client_.ObjectName(key);
  const int64_t stale_ms = client_.config().options.claim_stale_after_ms;
  const int64_t start = client_.clock().MonotonicNanos() / 1000000;
  int64_t wait_ms = 10;
  for (;;) {
    ASSIGN_OR_RETURN(Listing now, ListRaw(claims, what + " (list claims)"));
    std::vector<std::string> live;
    for (const auto& c : now.objects) {
      if (now.server_now_ms - c.last_modified_ms < stale_ms) live.push_back(c.key.substr(claims.size()));
    }
    std::sort(live.begin(), live.end());
    if (std::find(live.begin(), live.end(), mine) == live.end()) {
      return Aborted(what + " in " + Location() + ": our claim " + mine + " vanished (removed as abandoned?)");
    }
    if (live.front() != mine) {
      return AlreadyExists(what + " in " + Location() + ": another writer is creating it (claim " + live.front() +
                           ")");
    }
    if (client_.clock().MonotonicNanos() / 1000000 - start > stale_ms / 2) {
      return Unavailable(what + " in " + Location() + ": other writers' claims did not go away within " +
                         std::to_string(stale_ms / 2000) + " s");
    }
    if (live.size() == 1) {
      ASSIGN_OR_RETURN(auto existing, Head(object, what));
      if (existing) return AlreadyExists(what + " in " + Location() + ": already exists");
      return PutObject(key, data);
    }
    client_.Sleep(wait_ms);
    wait_ms = std::min<int64_t>(wait_ms * 2, 500);
  }
}

}  // namespace ailee::storage::s3
