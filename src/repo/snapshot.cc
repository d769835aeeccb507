#include "repo/snapshot.h"

#include <algorithm>

#include "base/clock.h"

namespace ailee::repo {
namespace {

const char* TypeName(FileEntry::Type t) {
  switch (t) {
    case FileEntry::Type::kFile: return "file";
    case FileEntry::Type::kDir: return "dir";
    case FileEntry::Type::kSymlink: return "symlink";
  }
  return "file";
}

nlohmann::json EncodeFile(const FileEntry& f) {
  nlohmann::json j = {{"path", f.path}, {"type", TypeName(f.type)}, {"mode", f.mode}, {"uid", f.uid},
                      {"gid", f.gid},   {"mtime_ns", f.mtime_ns}, {"size", f.size}, {"inode", f.inode}};
  if (f.type == FileEntry::Type::kFile) {
    j["dev"] = f.dev;
    j["btime_ns"] = f.btime_ns;
    j["ctime_ns"] = f.ctime_ns;
    if (!f.identity.empty()) j["identity"] = f.identity;
    j["sha256"] = f.sha256;
    auto& chunks = j["chunks"] = nlohmann::json::array();
    for (const auto& c : f.chunks) chunks.push_back(IdHex(c));
  }
  if (f.type == FileEntry::Type::kSymlink) j["link_target"] = f.link_target;
  return j;
}

Result<FileEntry> DecodeFile(const nlohmann::json& j) {
  FileEntry f;
  f.path = j.at("path").get<std::string>();
  std::string type = j.at("type").get<std::string>();
  if (type == "file") f.type = FileEntry::Type::kFile;
  else if (type == "dir") f.type = FileEntry::Type::kDir;
  else if (type == "symlink") f.type = FileEntry::Type::kSymlink;
  else return DataLoss("unknown file type \"" + type + "\" for " + f.path);
  f.mode = j.at("mode").get<uint32_t>();
  f.uid = j.at("uid").get<uint32_t>();
  f.gid = j.at("gid").get<uint32_t>();
  f.mtime_ns = j.at("mtime_ns").get<int64_t>();
  f.size = j.at("size").get<uint64_t>();
  f.inode = j.value("inode", uint64_t{0});
  if (f.type == FileEntry::Type::kFile) {
    f.dev = j.value("dev", uint64_t{0});
    f.btime_ns = j.value("btime_ns", int64_t{0});
    f.ctime_ns = j.value("ctime_ns", int64_t{0});
    f.identity = j.value("identity", "");
    f.sha256 = j.at("sha256").get<std::string>();
    for (const auto& c : j.at("chunks")) {
      ASSIGN_OR_RETURN(Id id, ParseId(c.get<std::string>()));
      f.chunks.push_back(id);
    }
  }
  if (f.type == FileEntry::Type::kSymlink) f.link_target = j.at("link_target").get<std::string>();
  // A path that could escape the restore target is never accepted.
  if (f.path.empty() || f.path.front() == '/' || f.path == ".." || f.path.find("../") == 0 ||
      f.path.find("/../") != std::string::npos || (f.path.size() >= 3 && f.path.substr(f.path.size() - 3) == "/..")) {
    return DataLoss("unsafe path \"" + f.path + "\"");
  }
  return f;
}

}  // namespace

Result<Id> SaveSnapshot(Repository& repo, const Snapshot& s) {
  nlohmann::json j;
  j["version"] = kFormatVersion;
  j["time_ms"] = s.time_ms;
  j["time"] = FormatUtc(s.time_ms / 1000);
  j["host"] = s.host;
  j["user"] = s.user;
  j["kind"] = s.kind;
  j["tags"] = s.tags;
  j["parent"] = s.parent;
  j["meta"] = s.meta;
  j["total_bytes"] = s.total_bytes;
  if (s.file_identity > 0) j["file_identity"] = s.file_identity;
  auto& files = j["files"] = nlohmann::json::array();
  for (const auto& f : s.files) files.push_back(EncodeFile(f));
  std::string text;
  try {
    text = j.dump();
  } catch (const nlohmann::json::type_error& e) {
    // JSON holds only UTF-8: a tag or note typed on a Latin-1 terminal.
    return InvalidArgument("snapshot of kind '" + s.kind + "': a tag or a meta value is not UTF-8 text (" + e.what() + ")");
  }
  return repo.SaveObject(ObjectKind::kSnapshot, text);
}

Result<Snapshot> LoadSnapshot(Repository& repo, const Id& id) {
  ASSIGN_OR_RETURN(std::string text, repo.LoadObject(ObjectKind::kSnapshot, id));
  Snapshot s;
  s.id = id;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.at("version").get<int>() != kFormatVersion) return DataLoss("snapshot " + IdHex(id) + ": unsupported version");
    s.time_ms = j.at("time_ms").get<int64_t>();
    s.host = j.at("host").get<std::string>();
    s.user = j.value("user", "");
    s.kind = j.at("kind").get<std::string>();
    s.tags = j.at("tags").get<std::vector<std::string>>();
    s.parent = j.value("parent", "");
    s.meta = j.value("meta", nlohmann::json::object());
    s.total_bytes = j.value("total_bytes", uint64_t{0});
    s.file_identity = j.value("file_identity", 0);
    for (const auto& f : j.at("files")) {
      auto entry = DecodeFile(f);
      if (!entry.ok()) return entry.status().WithContext("snapshot " + IdHex(id));
      s.files.push_back(std::move(entry).value());
    }
  } catch (const std::exception& e) {
    return DataLoss("snapshot " + IdHex(id) + " is malformed: " + e.what());
  }
  return s;
}

Result<SnapshotListing> ListSnapshots(Repository& repo) {
  ASSIGN_OR_RETURN(auto objects, repo.store().List(std::string(kSnapshotsPrefix)));
  SnapshotListing out;
  for (const auto& obj : objects) {
    auto id = IdFromKey(obj.key);
    if (!id.ok()) continue;
    auto s = LoadSnapshot(repo, *id);
    if (!s.ok()) {
      if (s.status().code() == StatusCode::kNotFound) continue;  // forgotten meanwhile
      if (s.status().code() != StatusCode::kDataLoss) return s.status();
      out.damaged.emplace_back(*id, s.status());
      continue;
    }
    out.snapshots.push_back(std::move(s).value());
  }
  std::sort(out.snapshots.begin(), out.snapshots.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.id < b.id;
  });
  return out;
}

Result<Snapshot> FindSnapshot(Repository& repo, std::string_view ref, const SnapshotFilter& filter) {
  if (ref.empty()) return InvalidArgument("empty snapshot reference");
  if (ref == "latest") {
    ASSIGN_OR_RETURN(SnapshotListing all, ListSnapshots(repo));
    for (auto it = all.snapshots.rbegin(); it != all.snapshots.rend(); ++it) {
      if (!filter.kind.empty() && it->kind != filter.kind) continue;
      if (!filter.host.empty() && it->host != filter.host) continue;
      return *it;
    }
    return NotFound("no snapshot" + (filter.kind.empty() ? "" : " of kind \"" + filter.kind + "\"") + " in " +
                    repo.Location());
  }
  ASSIGN_OR_RETURN(auto objects, repo.store().List(std::string(kSnapshotsPrefix) + std::string(ref)));
  if (objects.empty()) return NotFound("no snapshot \"" + std::string(ref) + "\" in " + repo.Location());
  if (objects.size() > 1) {
    return InvalidArgument("snapshot prefix \"" + std::string(ref) + "\" is ambiguous (" +
                           std::to_string(objects.size()) + " matches)");
  }
  ASSIGN_OR_RETURN(Id id, IdFromKey(objects[0].key));
  return LoadSnapshot(repo, id);
}

}  // namespace ailee::repo
