#include "storage/s3/s3_options.h"

#include <algorithm>
#include <cctype>

#include "storage/object_store.h"

namespace ailee::storage::s3 {
namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool ValidBucket(const std::string& b) {
  if (b.empty() || b.size() > 255) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

// Values that end up in HTTP headers: a storage class or lock mode is an
// upper-case word; anything else could smuggle a header in.
bool ValidHeaderWord(const std::string& v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  if (v == "1" || v == "true" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "no") return false;
  return InvalidArgument("S3 URL parameter " + name + "=" + v + ": expected 1 or 0");
}

Result<std::string> NormalizeEndpoint(const std::string& e) {
  std::string out = e;
  while (!out.empty() && out.back() == '/') out.pop_back();
  auto scheme_end = out.find("://");
  if ((out.rfind("http://", 0) != 0 && out.rfind("https://", 0) != 0) ||
      out.find('/', scheme_end + 3) != std::string::npos || out.size() == scheme_end + 3) {
    return InvalidArgument("S3 endpoint \"" + e + "\": expected http://HOST[:PORT] or https://HOST[:PORT]");
  }
  return out;
}

Status ApplyQuery(const std::string& url, const std::string& query, S3Options* o) {
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    std::string item = query.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name = PercentDecode(item.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : PercentDecode(item.substr(eq + 1));
    if (name == "endpoint") {
      o->endpoint = value;
    } else if (name == "region") {
      o->region = value;
    } else if (name == "path_style") {
      ASSIGN_OR_RETURN(bool b, ParseBool(name, value));
      o->path_style = b;
    } else if (name == "profile") {
      o->profile = value;
    } else if (name == "storage_class") {
      o->storage_class = value;
    } else if (name.rfind("storage_class.", 0) == 0 && name.size() > 14) {
      o->storage_classes[name.substr(14)] = value;
    } else if (name == "put_if_absent") {
      if (value == "auto") o->put_if_absent = CreateMode::kAuto;
      else if (value == "conditional") o->put_if_absent = CreateMode::kConditional;
      else if (value == "claims") o->put_if_absent = CreateMode::kClaims;
      else return InvalidArgument("repository URL " + url + ": put_if_absent must be auto, conditional or claims");
    } else {
      return InvalidArgument("repository URL " + url + ": unknown parameter \"" + name +
                             "\" (known: endpoint, region, path_style, profile, storage_class, "
                             "storage_class.PREFIX, put_if_absent; credentials come from the environment)");
    }
  }
  return Status::Ok();
}

Status ValidateOptions(const std::string& url, const S3Options& o) {
  auto bad = [&](const std::string& why) { return InvalidArgument("S3 repository " + url + ": " + why); };
  if (!ValidHeaderWord(o.storage_class)) return bad("storage class \"" + o.storage_class + "\" is not a class name");
  for (const auto& [prefix, cls] : o.storage_classes) {
    if (prefix.empty() || cls.empty() || !ValidHeaderWord(cls)) {
      return bad("storage class \"" + cls + "\" for \"" + prefix + "\" is not a class name");
    }
  }
  if (!o.object_lock_mode.empty()) {
    if (o.object_lock_mode != "GOVERNANCE" && o.object_lock_mode != "COMPLIANCE") {
      return bad("object lock mode must be GOVERNANCE or COMPLIANCE, not \"" + o.object_lock_mode + "\"");
    }
    if (o.retention_days <= 0) return bad("object lock needs retention_days > 0");
  }
  if (o.part_size == 0 || o.multipart_threshold == 0) return bad("part size and multipart threshold must be > 0");
  if (o.parallel_parts < 1) return bad("parallel_parts must be >= 1");
  if (o.parallel_uploads < 1) return bad("parallel_uploads must be >= 1");
  if (o.list_page_size < 1 || o.list_page_size > 1000) return bad("list_page_size must be 1..1000");
  if (o.retry.max_attempts < 1) return bad("retry max_attempts must be >= 1");
  return Status::Ok();
}

}  // namespace

std::string MatchPrefixTable(const std::map<std::string, std::string>& table, const std::string& key) {
  const std::string* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, value] : table) {
    bool match = prefix.back() == '/' ? key.rfind(prefix, 0) == 0
                                      : key == prefix || key.rfind(prefix + "/", 0) == 0;
    if (match && (best == nullptr || prefix.size() > best_len)) {
      best = &value;
      best_len = prefix.size();
    }
  }
  return best ? *best : std::string();
}

bool MatchesAnyPrefix(const std::vector<std::string>& prefixes, const std::string& key) {
  if (prefixes.empty()) return true;
  std::map<std::string, std::string> table;
  for (const auto& p : prefixes) {
    if (!p.empty()) table[p] = "x";
  }
  return !MatchPrefixTable(table, key).empty();
}

Result<S3Config> ResolveS3Config(const std::string& url, const S3Options& defaults, const EnvLookup& env) {
  if (url.rfind("s3://", 0) != 0) return InvalidArgument("not an S3 URL (s3://BUCKET/PREFIX): " + url);
  S3Config c;
  c.options = defaults;
  std::string rest = url.substr(5);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto slash = rest.find('/');
  c.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) c.prefix = rest.substr(slash + 1);
  while (!c.prefix.empty() && c.prefix.back() == '/') c.prefix.pop_back();
  if (!ValidBucket(c.bucket)) {
    return InvalidArgument("repository URL " + url + ": bad bucket name \"" + c.bucket + "\" (s3://BUCKET/PREFIX)");
  }
  if (!c.prefix.empty()) {
    if (Status st = ValidateKey(c.prefix); !st.ok()) return st.WithContext("repository URL " + url + ": prefix");
  }
  RETURN_IF_ERROR(ApplyQuery(url, query, &c.options));
  S3Options& o = c.options;
  RETURN_IF_ERROR(ValidateOptions(url, o));

  auto from_env = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names) {
      if (auto v = env(n); v && !v->empty()) return *v;
    }
    return "";
  };
  c.region = !o.region.empty() ? o.region : from_env({"AWS_REGION", "AWS_DEFAULT_REGION"});
  if (c.region.empty()) c.region = "us-east-1";
  std::string endpoint = !o.endpoint.empty() ? o.endpoint : from_env({"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  bool custom = !endpoint.empty();
  if (!custom) endpoint = "https://s3." + c.region + ".amazonaws.com";
  ASSIGN_OR_RETURN(c.endpoint, NormalizeEndpoint(endpoint));
  // Virtual-hosted style puts the bucket in the host name: not possible for
  // a bucket with dots over TLS (the certificate names one level) or for a
  // local server without wildcard DNS, so custom endpoints default to paths.
  c.path_style = o.path_style.value_or(custom || c.bucket.find('.') != std::string::npos);
  if (c.region.find_first_of(":/ \r\n") != std::string::npos) {
    return InvalidArgument("repository URL " + url + ": bad region \"" + c.region + "\"");
  }
  ASSIGN_OR_RETURN(c.credentials, ResolveCredentials({o.profile, o.credentials_file}, env));
  return c;
}

}  // namespace ailee::storage::s3
