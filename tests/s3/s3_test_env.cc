#include "s3_test_env.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "drain.h"

extern char** environ;

namespace ailee::s3test {
namespace {

using Millis = std::chrono::milliseconds;

// Ceph may take three attempts of up to 120 s each (s3-server.sh retries
// when a port was taken between picking and binding it).
constexpr Millis kStartTimeout(420000);

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Our environment minus every AWS_* variable, plus `extra` (NAME=value).
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "AWS_", 4) != 0) out.emplace_back(*e);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

// Runs argv (argv[0] a path, or a name looked up on PATH) with environment
// `envp`, stdin from /dev/null, capturing stdout and stderr; SIGKILL after
// `timeout`. posix_spawn: no fork of a multi-threaded test process.
CliResult Run(const std::vector<std::string>& args, const std::vector<std::string>& envp, Millis timeout) {
  CliResult r;
  int out_pipe[2], err_pipe[2];
  if (!ailee::testing::OpenOutputPipes(out_pipe, err_pipe, &r.err)) return r;
  std::vector<char*> argv, env;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : envp) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  pid_t pid = -1;
  const bool search_path = args[0].find('/') == std::string::npos;
  int rc = search_path ? posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), env.data())
                       : posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    r.err = "cannot run " + args[0] + ": " + std::strerror(rc);
    close(out_pipe[0]);
    close(err_pipe[0]);
    return r;
  }

  ailee::testing::Drained d = ailee::testing::DrainAndReap(pid, out_pipe[0], err_pipe[0], timeout);
  r.out = std::move(d.out);
  r.err = std::move(d.err);
  r.timed_out = d.timed_out;
  r.exit_code = ailee::testing::ExitCodeFromWaitStatus(d.wait_status);
  return r;
}

std::string AwsBinary() {
  std::string bin = GetEnv("AILEE_AWS_CLI");
  if (!bin.empty()) return bin;
  if (access("/usr/bin/aws", X_OK) == 0) return "/usr/bin/aws";
  return "aws";
}

std::string ServerScript() {
  std::string script = GetEnv("AILEE_S3_SERVER_SCRIPT");
  return script.empty() ? std::string(AILEE_S3_SERVER_SCRIPT) : script;
}

std::string ServerDir(std::string_view kind) {
  std::string root = GetEnv("AILEE_S3_TEST_DIR");
  if (!root.empty()) return fs::JoinPath(root, kind);
  std::string tmp = GetEnv("TMPDIR");
  if (tmp.empty()) tmp = "/tmp";
  return fs::JoinPath(tmp, "ailee-s3-" + std::string(kind) + "-" + std::to_string(getuid()));
}

// True if every pid file names a live process whose command line mentions
// the server's dir (a recycled pid is someone else's), as s3-server.sh checks.
bool ServerAlive(const S3TestEnv& env) {
  for (const std::string& file : env.pid_files) {
    auto pid_text = fs::ReadFile(file);
    if (!pid_text.ok()) return false;
    long pid = std::strtol(pid_text->c_str(), nullptr, 10);
    if (pid <= 0) return false;
    auto cmdline = fs::ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (!cmdline.ok() || cmdline->find(env.dir + "/") == std::string::npos) return false;
  }
  return !env.pid_files.empty();
}

Status CheckKind(std::string_view kind) {
  if (kind == "swift" || kind == "ceph") return Status::Ok();
  return InvalidArgument("unknown S3 server kind '" + std::string(kind) + "' (swift or ceph)");
}

// The env file at `path` if the server it describes is alive.
Result<S3TestEnv> ReadLiveEnv(const std::string& path, std::string_view kind) {
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  ASSIGN_OR_RETURN(S3TestEnv env, S3TestEnv::Parse(text, kind));
  if (!ServerAlive(env)) return Unavailable("the server described by " + path + " is not running");
  return env;
}

bool Mentions(const CliResult& r, std::string_view what) {
  return r.err.find(what) != std::string::npos || r.out.find(what) != std::string::npos;
}

// A failed aws run as a Status: what was attempted and what aws said.
Status AwsError(const CliResult& r, std::string_view what) {
  std::string msg = std::string(what) + ": " + r.Describe();
  if (r.timed_out) return Unavailable(std::move(msg));
  if (Mentions(r, "AccessDenied")) return FailedPrecondition(std::move(msg));
  if (Mentions(r, "NoSuchBucket") || Mentions(r, "NoSuchKey")) return NotFound(std::move(msg));
  if (Mentions(r, "BucketAlreadyOwnedByYou") || Mentions(r, "BucketAlreadyExists")) {
    return AlreadyExists(std::move(msg));
  }
  return Internal(std::move(msg));
}

// Runs an s3api command that prints JSON; empty output parses as {}.
Result<nlohmann::json> AwsJson(const S3TestEnv& env, std::vector<std::string> args, std::string_view what) {
  args.insert(args.end(), {"--output", "json"});
  CliResult r = RunAws(env, args);
  if (!r.ok()) return AwsError(r, what);
  if (r.out.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Internal(std::string(what) + ": aws printed no JSON: " + r.out.substr(0, 500));
  return doc;
}

// Deletes `objects` ({"Key", "VersionId"?} entries) in batches.
Status DeleteObjects(const S3TestEnv& env, const std::string& bucket, const nlohmann::json& objects) {
  // Batches of 200 keep the --delete argument far below the kernel's
  // 128 KiB limit for one argv string.
  constexpr size_t kBatch = 200;
  for (size_t i = 0; i < objects.size(); i += kBatch) {
    nlohmann::json batch = nlohmann::json::array();
    for (size_t j = i; j < std::min(objects.size(), i + kBatch); ++j) batch.push_back(objects[j]);
    nlohmann::json request = {{"Objects", batch}, {"Quiet", true}};
    std::vector<std::string> args = {"s3api", "delete-objects", "--bucket", bucket, "--delete", request.dump()};
    if (env.object_lock) args.push_back("--bypass-governance-retention");
    ASSIGN_OR_RETURN(nlohmann::json reply, AwsJson(env, args, "delete objects in " + bucket));
    if (reply.contains("Errors") && !reply["Errors"].empty()) {
      return FailedPrecondition("cannot delete every object in " + bucket +
                                " (COMPLIANCE retention?): " + reply["Errors"].dump());
    }
  }
  return Status::Ok();
}

}  // namespace

std::string CliResult::Describe() const {
  std::ostringstream os;
  os << (timed_out ? "timed out" : "exit " + std::to_string(exit_code));
  if (!out.empty()) os << "; stdout: " << out.substr(0, 2000);
  if (!err.empty()) os << "; stderr: " << err.substr(0, 2000);
  return os.str();
}

Result<S3TestEnv> S3TestEnv::Parse(std::string_view text, std::string_view expected_kind) {
  S3TestEnv env;
  std::string object_lock;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    if (key == "AILEE_TEST_S3_KIND") env.kind = value;
    else if (key == "AILEE_TEST_S3_ENDPOINT") env.endpoint = value;
    else if (key == "AWS_ACCESS_KEY_ID") env.access_key_id = value;
    else if (key == "AWS_SECRET_ACCESS_KEY") env.secret_access_key = value;
    else if (key == "AWS_REGION") env.region = value;
    else if (key == "AILEE_TEST_S3_OBJECT_LOCK") object_lock = value;
    else if (key == "AILEE_TEST_S3_DIR") env.dir = value;
    else if (key == "AWS_CONFIG_FILE") env.aws_config_file = value;
    else if (key == "AILEE_TEST_S3_PID_FILES") {
      std::istringstream files(value);
      for (std::string f; files >> f;) env.pid_files.push_back(f);
    }
  }
  std::string missing;
  for (auto [name, value] : {std::pair{"AILEE_TEST_S3_KIND", &env.kind},
                             {"AILEE_TEST_S3_ENDPOINT", &env.endpoint},
                             {"AWS_ACCESS_KEY_ID", &env.access_key_id},
                             {"AWS_SECRET_ACCESS_KEY", &env.secret_access_key},
                             {"AWS_REGION", &env.region},
                             {"AILEE_TEST_S3_OBJECT_LOCK", &object_lock},
                             {"AILEE_TEST_S3_DIR", &env.dir}}) {
    if (value->empty()) missing += std::string(missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) return InvalidArgument("S3 test env file lacks " + missing);
  if (env.kind != expected_kind) {
    return InvalidArgument("S3 test env file is for '" + env.kind + "', expected '" + std::string(expected_kind) + "'");
  }
  if (object_lock != "0" && object_lock != "1") {
    return InvalidArgument("AILEE_TEST_S3_OBJECT_LOCK must be 0 or 1, is '" + object_lock + "'");
  }
  env.object_lock = object_lock == "1";
  return env;
}

Result<S3TestEnv> S3TestEnv::Get(std::string_view kind) {
  RETURN_IF_ERROR(CheckKind(kind));
  const std::string dir = ServerDir(kind);
  const std::string env_path = fs::JoinPath(dir, "env");
  if (auto env = ReadLiveEnv(env_path, kind); env.ok()) return env;

  CliResult r = Run({"/bin/bash", ServerScript(), "start", std::string(kind), dir}, ChildEnvironment({}),
                    kStartTimeout);
  if (!r.ok()) return Unavailable("starting the " + std::string(kind) + " S3 server in " + dir + ": " + r.Describe());
  auto env = ReadLiveEnv(env_path, kind);
  if (!env.ok()) return env.status().WithContext("after s3-server.sh start " + std::string(kind) + " " + dir);
  return env;
}

std::optional<S3TestEnv> S3TestEnv::Load(std::string_view kind) {
  Result<S3TestEnv> env = Get(kind);
  if (!env.ok()) {
    std::fprintf(stderr, "S3TestEnv::Load(%.*s): %s\n", static_cast<int>(kind.size()), kind.data(),
                 env.status().ToString().c_str());
    return std::nullopt;
  }
  return std::move(env).value();
}

CliResult RunAws(const S3TestEnv& env, const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {AwsBinary(), "--endpoint-url", env.endpoint, "--cli-connect-timeout", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> extra = {
      "AWS_ACCESS_KEY_ID=" + env.access_key_id,
      "AWS_SECRET_ACCESS_KEY=" + env.secret_access_key,
      "AWS_REGION=" + env.region,
      "AWS_DEFAULT_REGION=" + env.region,
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
      "AWS_CONFIG_FILE=" + (env.aws_config_file.empty() ? std::string("/dev/null") : env.aws_config_file),
      "AWS_PAGER=",
      "AWS_EC2_METADATA_DISABLED=true",
  };
  return Run(argv, ChildEnvironment(extra), timeout);
}

Status CreateBucket(const S3TestEnv& env, const std::string& bucket, bool object_lock) {
  std::vector<std::string> args = {"s3api", "create-bucket", "--bucket", bucket};
  if (object_lock) args.push_back("--object-lock-enabled-for-bucket");
  CliResult r = RunAws(env, args);
  if (!r.ok()) return AwsError(r, "create bucket " + bucket + " on " + env.kind);
  return Status::Ok();
}

Status DeleteBucket(const S3TestEnv& env, const std::string& bucket) {
  // Fast path, one aws process (each costs about a second of CPU): s3 rb
  // --force deletes the current objects, then the bucket.
  CliResult rb = RunAws(env, {"s3", "rb", "--force", "s3://" + bucket});
  if (rb.ok() || Mentions(rb, "NoSuchBucket")) return Status::Ok();

  // Old versions, delete markers or unfinished multipart uploads are left.
  const std::string where = " in " + bucket + " on " + env.kind;
  // Every version and delete marker; plain keys where versions are not listed.
  nlohmann::json objects = nlohmann::json::array();
  auto versions = AwsJson(env, {"s3api", "list-object-versions", "--bucket", bucket}, "list versions" + where);
  if (!versions.ok() && versions.status().code() == StatusCode::kNotFound) return Status::Ok();
  if (versions.ok()) {
    for (const char* list : {"Versions", "DeleteMarkers"}) {
      for (const auto& v : versions->value(list, nlohmann::json::array())) {
        nlohmann::json o = {{"Key", v.at("Key")}};
        if (v.contains("VersionId") && v["VersionId"].is_string() && v["VersionId"] != "null") {
          o["VersionId"] = v["VersionId"];
        }
        objects.push_back(o);
      }
    }
  } else {
    ASSIGN_OR_RETURN(nlohmann::json listing,
                     AwsJson(env, {"s3api", "list-objects-v2", "--bucket", bucket}, "list objects" + where));
    for (const auto& o : listing.value("Contents", nlohmann::json::array())) objects.push_back({{"Key", o.at("Key")}});
  }
  RETURN_IF_ERROR(DeleteObjects(env, bucket, objects));
  CliResult r = RunAws(env, {"s3api", "delete-bucket", "--bucket", bucket});
  if (r.ok() || Mentions(r, "NoSuchBucket")) return Status::Ok();

  // Still not empty: unfinished multipart uploads hold a bucket too.
  ASSIGN_OR_RETURN(nlohmann::json uploads, AwsJson(env, {"s3api", "list-multipart-uploads", "--bucket", bucket},
                                                   "list multipart uploads" + where));
  for (const auto& u : uploads.value("Uploads", nlohmann::json::array())) {
    // --opt=value: an id may start with '-', which the CLI would take for an option.
    CliResult abort = RunAws(env, {"s3api", "abort-multipart-upload", "--bucket", bucket,
                                   "--key=" + u.at("Key").get<std::string>(),
                                   "--upload-id=" + u.at("UploadId").get<std::string>()});
    if (!abort.ok()) return AwsError(abort, "abort multipart upload" + where);
  }
  r = RunAws(env, {"s3api", "delete-bucket", "--bucket", bucket});
  if (!r.ok() && !Mentions(r, "NoSuchBucket")) return AwsError(r, "delete bucket " + bucket + " on " + env.kind);
  return Status::Ok();
}

std::string UniqueBucketName(std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  static const uint32_t random = std::random_device{}();
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), "-%d-%llu-%08x", static_cast<int>(getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)), random);
  std::string p;
  for (char c : prefix) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
  }
  if (p.empty() || !std::isalnum(static_cast<unsigned char>(p[0]))) p = "t" + p;
  // S3 allows 63 characters: the prefix gives way, the unique suffix never.
  p.resize(std::min(p.size(), 63 - std::strlen(suffix)));
  return p + suffix;
}

}  // namespace ailee::s3test
