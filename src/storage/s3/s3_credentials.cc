#include "storage/s3/s3_credentials.h"

#include <openssl/crypto.h>

#include <cstdlib>

#include "base/fs.h"

namespace ailee::storage::s3 {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

Result<S3Credentials> FromFile(const std::string& path, const std::string& profile) {
  auto text = fs::ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return NotFound("credentials file " + path + " does not exist");
    }
    return text.status().WithContext("read S3 credentials file");
  }
  auto creds = ParseSharedCredentials(*text, profile, path);
  WipeString(*text);
  return creds;
}

}  // namespace

void WipeString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

SecretString& SecretString::operator=(const SecretString& other) {
  if (this != &other) {
    Wipe();
    value_ = other.value_;
  }
  return *this;
}

SecretString::SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = std::move(other.value_);
    other.Wipe();
  }
  return *this;
}

SecretString::~SecretString() { Wipe(); }

// A moved-from std::string may keep its small-string buffer: wipe it too.
void SecretString::Wipe() { WipeString(value_); }

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<S3Credentials> ParseSharedCredentials(std::string_view text, const std::string& profile,
                                             const std::string& path) {
  S3Credentials out;
  bool in_profile = false, seen_profile = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return InvalidArgument("credentials file " + path + ": malformed section header");
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      // ~/.aws/config spells profiles "[profile NAME]"; accept both.
      if (name.substr(0, 8) == "profile ") name = Trim(name.substr(8));
      in_profile = name == profile;
      seen_profile = seen_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = Trim(line.substr(0, eq));
    std::string_view v = Trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") {
      out.access_key_id = std::string(v);
    } else if (k == "aws_secret_access_key") {
      out.secret_access_key = SecretString(std::string(v));
    } else if (k == "aws_session_token") {
      out.session_token = SecretString(std::string(v));
    }
  }
  std::string where = "profile \"" + profile + "\" in " + path;
  if (!seen_profile) return NotFound("no " + where);
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return NotFound(where + " lacks aws_access_key_id or aws_secret_access_key");
  }
  out.source = where;
  return out;
}

Result<S3Credentials> ResolveCredentials(const CredentialSettings& settings, const EnvLookup& env) {
  std::string path = settings.credentials_file;
  if (path.empty()) path = NonEmpty(env, "AWS_SHARED_CREDENTIALS_FILE").value_or("");
  if (path.empty()) {
    auto home = NonEmpty(env, "HOME");
    path = (home ? *home : std::string("~")) + "/.aws/credentials";
  }
  auto denied = [](const Status& st, const std::string& tried) {
    return PermissionDenied("no S3 credentials: " + st.message() + " (" + tried +
                            "; credentials are read only from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS "
                            "shared-credentials file, see docs/s3.md)");
  };
  if (!settings.profile.empty()) {
    auto creds = FromFile(path, settings.profile);
    if (!creds.ok() && creds.status().code() == StatusCode::kNotFound) {
      return denied(creds.status(), "profile \"" + settings.profile + "\" was requested explicitly");
    }
    return creds;
  }
  auto id = NonEmpty(env, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    S3Credentials out;
    out.access_key_id = *id;
    out.secret_access_key = SecretString(std::move(*secret));
    if (auto token = NonEmpty(env, "AWS_SESSION_TOKEN")) out.session_token = SecretString(std::move(*token));
    out.source = "environment (AWS_ACCESS_KEY_ID)";
    return out;
  }
  if (id || secret) {
    return InvalidArgument(std::string(id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is set but " +
                           (id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                           " is not: set both (or neither, to use a credentials file)");
  }
  std::string profile = NonEmpty(env, "AWS_PROFILE").value_or("default");
  auto creds = FromFile(path, profile);
  if (!creds.ok() && creds.status().code() == StatusCode::kNotFound) {
    return denied(creds.status(), "AWS_ACCESS_KEY_ID is not set");
  }
  return creds;
}

}  // namespace ailee::storage::s3
