// S3 credentials: where they come from and how they are held.
//
// Credentials never come from the command line or the repository URL, only
// from the standard AWS environment variables or an AWS shared-credentials
// file (INI: "[profile]" sections with aws_access_key_id,
// aws_secret_access_key, aws_session_token). Resolution order:
//   1. a profile named explicitly (URL ?profile= or S3Options::profile):
//      that profile from the credentials file, nothing else;
//   2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   3. profile $AWS_PROFILE (else "default") from the credentials file.
// The credentials file is S3Options::credentials_file, else
// $AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials.
//
// Secrets live in SecretString, which wipes its bytes when destroyed; they
// are never part of a Status message (`source` says where they came from).
// libcurl keeps its own copy of the secret for the duration of a request and
// frees it without wiping: that copy is outside our control.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ailee::storage::s3 {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString& other) : value_(other.value_) {}
  SecretString& operator=(const SecretString& other);
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString();

  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  void Wipe();
  std::string value_;
};

// Overwrites `s` in a way the compiler keeps, then clears it.
void WipeString(std::string& s);

struct S3Credentials {
  std::string access_key_id;
  SecretString secret_access_key;
  SecretString session_token;
  // Where they came from, for messages: "environment (AWS_ACCESS_KEY_ID)" or
  // "profile \"backup\" in /root/.aws/credentials". Never secret.
  std::string source;
};

// Environment lookup, injectable for tests. nullopt = unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

struct CredentialSettings {
  std::string profile;           // explicit profile (URL or options); empty: none
  std::string credentials_file;  // explicit file (options); empty: env or ~/.aws/credentials
};

// Applies the order above. kPermissionDenied when nothing provides
// credentials (the message says what was tried), kInvalidArgument for a
// half-set environment or a malformed file.
Result<S3Credentials> ResolveCredentials(const CredentialSettings& settings, const EnvLookup& env);

// Reads `profile` from the text of a shared-credentials file (`path` is for
// messages). kNotFound when the profile is missing or incomplete.
Result<S3Credentials> ParseSharedCredentials(std::string_view text, const std::string& profile,
                                             const std::string& path);

}  // namespace ailee::storage::s3
