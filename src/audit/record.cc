#include "audit/record.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/clock.h"
#include "base/hex.h"
#include "crypto/hash.h"

namespace ailee::audit {
namespace {

// Replacement of invalid UTF-8 keeps a line renderable whatever an argument holds.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool IsSecretKey(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kSuffixes[] = {"passphrase", "password", "secret", "pin", "token", "private_key"};
  for (const char* s : kSuffixes) {
    std::string_view suffix(s);
    if (key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string ResultName(const Status& status) {
  std::string name(StatusCodeName(status.code()));
  std::replace(name.begin(), name.end(), ' ', '_');
  return name;
}

Json RedactSecrets(const Json& args) {
  if (args.is_array()) {
    Json out = Json::array();
    for (const auto& v : args) out.push_back(RedactSecrets(v));
    return out;
  }
  if (!args.is_object()) return args;
  Json out = Json::object();
  for (auto it = args.begin(); it != args.end(); ++it) {
    out[it.key()] = IsSecretKey(it.key()) ? Json("[redacted]") : RedactSecrets(it.value());
  }
  return out;
}

Origin Origin::Current() {
  Origin o;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) o.host = host;
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    o.user = found->pw_name;
  } else {
    o.user = "uid " + std::to_string(::geteuid());
  }
  // An operator acting through sudo is the person to name in an audit trail.
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') {
    o.user += " (sudo by " + std::string(sudo) + ")";
  }
  o.pid = ::getpid();
  return o;
}

std::string FormatMillisUtc(int64_t millis) {
  int64_t secs = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  int ms = static_cast<int>(millis - secs * 1000);
  std::string s = FormatUtc(secs);  // "...:SSZ"
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", ms);
  s.pop_back();
  return s + frac;
}

std::string LineHash(std::string_view line) { return crypto::HashToHex(crypto::Sha256(line)); }

Result<std::string> RenderLine(const AuditEvent& event, uint64_t seq, int64_t time_millis,
                               const Origin& origin, const std::string& prev_hex,
                               const crypto::PrivateKey* signer) {
  if (event.operation.empty()) return InvalidArgument("audit event without an operation");
  Json j = Json::object();
  j["v"] = kFormatVersion;
  j["seq"] = seq;
  j["time"] = FormatMillisUtc(time_millis);
  j["host"] = origin.host;
  j["user"] = origin.user;
  j["pid"] = origin.pid;
  j["operation"] = event.operation;
  j["args"] = RedactSecrets(event.args.is_null() ? Json::object() : event.args);
  j["result"] = event.result;
  j["message"] = event.message;
  j["duration_ms"] = event.duration_ms;
  j["touched"] = event.touched;
  j["prev"] = prev_hex;
  std::string line = Dump(j);
  if (signer != nullptr) {
    ASSIGN_OR_RETURN(std::string sig, signer->Sign(line));
    j["sig"] = HexEncode(sig);
    line = Dump(j);
  }
  return line;
}

Result<AuditRecord> ParseLine(std::string_view line, uint64_t line_no) {
  AuditRecord r;
  r.line_no = line_no;
  r.json = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (r.json.is_discarded() || !r.json.is_object()) return DataLoss("not a JSON object");
  const Json& j = r.json;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string(); };
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"].get<int64_t>() != kFormatVersion) {
    return DataLoss("missing or unsupported format version \"v\"");
  }
  if (!j.contains("seq") || !j["seq"].is_number_unsigned()) return DataLoss("missing or invalid \"seq\"");
  if (!str("time") || !str("operation") || !str("result") || !str("prev")) {
    return DataLoss("missing one of \"time\", \"operation\", \"result\", \"prev\"");
  }
  r.seq = j["seq"].get<uint64_t>();
  r.time = j["time"].get<std::string>();
  r.operation = j["operation"].get<std::string>();
  r.result = j["result"].get<std::string>();
  r.prev = j["prev"].get<std::string>();
  if (r.prev.size() != 64) return DataLoss("\"prev\" is not a SHA-256 hex digest");
  if (j.contains("sig")) {
    if (!j["sig"].is_string()) return DataLoss("\"sig\" is not a hex string");
    r.sig_hex = j["sig"].get<std::string>();
  }
  std::string secs = r.time.size() >= 19 ? r.time.substr(0, 19) + "Z" : r.time;
  if (!ParseUtc(secs, &r.time_unix)) return DataLoss("\"time\" is not an ISO UTC time");
  return r;
}

bool VerifyLineSignature(const AuditRecord& record, const crypto::PublicKey& key) {
  if (!record.sig_hex) return false;
  auto sig = HexDecode(*record.sig_hex);
  if (!sig) return false;
  Json unsigned_form = record.json;
  unsigned_form.erase("sig");
  return key.Verify(Dump(unsigned_form), *sig);
}

}  // namespace ailee::audit
