#include "archive/paths.h"

#include <map>
#include <set>

namespace ailee::archive {
namespace {

std::vector<std::string> Split(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "/" : "") + parts[i];
  return s;
}

}  // namespace

Result<std::string> CleanEntryPath(std::string_view path) {
  if (path.empty()) return InvalidArgument("empty path");
  if (path.find('\0') != std::string_view::npos) return InvalidArgument("NUL byte in path");
  if (path.front() == '/') return InvalidArgument("absolute path");
  std::vector<std::string> kept;
  for (auto& c : Split(path)) {
    if (c.empty() || c == ".") continue;
    if (c == "..") return InvalidArgument("'..' component");
    kept.push_back(c);
  }
  if (kept.empty()) return InvalidArgument("path names the target itself");
  return Join(kept, kept.size());
}

std::vector<EntryRefusal> CheckEntries(const std::vector<ArchiveEntry>& entries) {
  std::vector<EntryRefusal> out;
  std::map<std::string, ArchiveEntry::Type> types;  // clean path -> type of the first entry
  std::vector<std::pair<const ArchiveEntry*, std::string>> clean;
  for (const auto& e : entries) {
    auto c = CleanEntryPath(e.path);
    if (!c.ok()) {
      out.push_back({e.path, c.status().message()});
      continue;
    }
    if (e.type == ArchiveEntry::Type::kOther) {
      out.push_back({e.path, (e.other_kind.empty() ? "special file" : e.other_kind) + " (only files, directories and links are restored)"});
      continue;
    }
    auto [it, inserted] = types.emplace(*c, e.type);
    if (!inserted) {
      out.push_back({e.path, "collides with an earlier entry for the same path '" + *c + "'"});
      continue;
    }
    clean.emplace_back(&e, *c);
  }
  // Nothing may live below a file or a symlink of the archive.
  for (const auto& [e, c] : clean) {
    auto parts = Split(c);
    for (size_t n = 1; n < parts.size(); ++n) {
      auto it = types.find(Join(parts, n));
      if (it != types.end() && it->second != ArchiveEntry::Type::kDir) {
        out.push_back({e->path, "its parent '" + it->first + "' is " +
                                    (it->second == ArchiveEntry::Type::kSymlink ? "a symlink" : "not a directory") +
                                    " in the same archive"});
        break;
      }
    }
  }
  for (const auto& [e, c] : clean) {
    if (e->type == ArchiveEntry::Type::kHardlink) {
      auto t = CleanEntryPath(e->link_target);
      if (!t.ok()) {
        out.push_back({e->path, "hard link to '" + e->link_target + "' points outside the target (" + t.status().message() + ")"});
        continue;
      }
      auto it = types.find(*t);
      if (it == types.end() || it->second != ArchiveEntry::Type::kFile) {
        out.push_back({e->path, "hard link to '" + e->link_target + "', which is not a regular file of this archive"});
      }
    } else if (e->type == ArchiveEntry::Type::kSymlink) {
      const std::string& t = e->link_target;
      if (t.empty() || t.front() == '/') {
        out.push_back({e->path, "symlink to absolute path '" + t + "' points outside the target"});
        continue;
      }
      // Resolve lexically from the link's directory; stepping through another
      // symlink of the archive is refused, since ".." after it would follow
      // the real location.
      auto stack = Split(c);
      stack.pop_back();
      std::string why;
      for (auto& comp : Split(t)) {
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
          if (stack.empty()) {
            why = "symlink to '" + t + "' points outside the target";
            break;
          }
          stack.pop_back();
          continue;
        }
        stack.push_back(comp);
        auto it = types.find(Join(stack, stack.size()));
        if (it != types.end() && it->second == ArchiveEntry::Type::kSymlink && it->first != c) {
          why = "symlink to '" + t + "' passes through another symlink '" + it->first + "'";
          break;
        }
        if (it != types.end() && it->first == c) {
          why = "symlink to '" + t + "' points to itself";
          break;
        }
      }
      if (!why.empty()) out.push_back({e->path, why});
    }
  }
  return out;
}

Status RefusalsToStatus(const std::vector<EntryRefusal>& refusals, std::string_view what) {
  if (refusals.empty()) return Status::Ok();
  std::string msg = std::string(what) + ": " + std::to_string(refusals.size()) + " unsafe entr" +
                    (refusals.size() == 1 ? "y" : "ies") + ", nothing was written:";
  for (const auto& r : refusals) msg += "\n  " + r.ToString();
  return InvalidArgument(msg);
}

}  // namespace ailee::archive
