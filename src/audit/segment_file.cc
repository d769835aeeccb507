#include "audit/segment_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <zlib.h>

#include <regex>

#include "audit/log_file.h"
#include "base/fs.h"

namespace ailee::audit {
namespace {

bool IsGzip(const std::string& data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

// gzip (one or more members, as gzip and logrotate write them) to bytes.
Result<std::string> Gunzip(const std::string& path, const std::string& data) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Internal("zlib inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) break;  // the next member
      continue;
    }
    if (rc != Z_OK) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_BUF_ERROR;  // input ends inside a member
      break;
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return DataLoss("audit log segment " + path + ": the gzip data is damaged or cut short (zlib " +
                    std::to_string(rc) + ")");
  }
  return out;
}

// "<log>", "<log>.N[.gz]", "<log>-DIGITS[.gz]", each with an optional "~hex".
struct ParsedName {
  int scheme = 0;
  std::string number;
  bool suffixed = false;
};

std::optional<ParsedName> ParseName(const std::string& log_name, const std::string& name) {
  if (name.size() < log_name.size() || name.compare(0, log_name.size(), log_name) != 0) return std::nullopt;
  static const std::regex kRest(R"(^(?:\.([0-9]+)|-([0-9]{8,14}))?(?:\.gz)?(~[0-9a-f]+)?$)");
  std::smatch m;
  const std::string rest = name.substr(log_name.size());
  if (!std::regex_match(rest, m, kRest)) return std::nullopt;
  ParsedName p;
  if (m[1].matched) {
    p.scheme = 1;
    p.number = m[1].str();
  } else if (m[2].matched) {
    p.scheme = 2;
    p.number = m[2].str();
  } else if (rest.rfind(".gz", 0) == 0) {
    return std::nullopt;  // "<log>.gz" is no logrotate name
  }
  p.suffixed = m[3].matched;
  return p;
}

}  // namespace

Result<SegmentLines> ReadSegment(const std::string& path) {
  ASSIGN_OR_RETURN(LockedFile f, LockedFile::Open(path, O_RDONLY, 0, LOCK_SH));
  ASSIGN_OR_RETURN(uint64_t size, f.Size());
  ASSIGN_OR_RETURN(std::string data, f.ReadRange(0, size));
  if (IsGzip(data)) {
    ASSIGN_OR_RETURN(data, Gunzip(path, data));
  }
  SegmentLines out;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) {
      out.torn_bytes = data.size() - pos;
      break;
    }
    out.complete.push_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

bool IsSegmentName(const std::string& log_name, const std::string& name) {
  return ParseName(log_name, name).has_value();
}

Result<std::vector<std::string>> SegmentsIn(const std::string& dir, const std::string& log_name) {
  ASSIGN_OR_RETURN(auto names, fs::ListDir(dir));
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (!IsSegmentName(log_name, name)) continue;
    struct stat st {};
    const std::string path = fs::JoinPath(dir, name);
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(path);
  }
  return out;
}

std::optional<NamedAge> NamedAgeOf(const std::string& log_name, const std::string& name) {
  auto p = ParseName(log_name, name);
  if (!p || p->suffixed) return std::nullopt;
  NamedAge age;
  age.scheme = p->scheme;
  if (p->scheme == 1) age.number = std::stoull(p->number);
  // dateext: a later date is newer, so "older" is a smaller date: invert.
  if (p->scheme == 2) age.number = UINT64_MAX - std::stoull(p->number);
  return age;
}

bool NamedOlder(const NamedAge& a, const NamedAge& b) {
  if (b.scheme == 0) return a.scheme != 0;  // the live file is newer than every rotated one
  if (a.scheme == 0) return false;
  return a.scheme == b.scheme && a.number > b.number;
}

}  // namespace ailee::audit
