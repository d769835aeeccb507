#include "archive/tar.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "base/file_system.h"
#include "base/fs.h"

namespace ailee::archive {
namespace {

struct WriteCloser {
  void operator()(::archive* a) const { archive_write_free(a); }
};
struct ReadCloser {
  void operator()(::archive* a) const { archive_read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// libarchive's output callback: appends to the WritableFile, keeping the
// first error (libarchive itself only sees -1).
struct FileSink {
  fs::WritableFile* file;
  Status error;
};
la_ssize_t SinkWrite(::archive*, void* client, const void* buffer, size_t length) {
  auto* sink = static_cast<FileSink*>(client);
  Status st = sink->file->Append(std::string_view(static_cast<const char*>(buffer), length));
  if (!st.ok()) {
    if (sink->error.ok()) sink->error = st;
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

Status ArchiveError(::archive* a, const std::string& what, const std::string& path) {
  const char* m = archive_error_string(a);
  return DataLoss(what + " " + path + ": " + (m ? m : "libarchive error"));
}

}  // namespace

Status WriteTarGz(const std::string& output, const std::vector<TarMember>& members, fs::FileSystem* file_system) {
  fs::FileSystem* fsys = fs::FileSystem::Or(file_system);
  std::string tmp = fs::TempSiblingName(output);
  std::unique_ptr<::archive, WriteCloser> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no padding, as for a regular file by fd
  ASSIGN_OR_RETURN(auto file, fsys->NewWritableFile(tmp, 0600, true));
  FileSink sink{file.get(), Status::Ok()};
  auto fail = [&](Status st) {
    a.reset();  // frees the archive (which may still write) while the file is open
    if (!sink.error.ok()) st = sink.error;
    (void)file->Close();
    (void)fsys->Unlink(tmp);
    return st;
  };
  if (archive_write_open(a.get(), &sink, nullptr, SinkWrite, nullptr) != ARCHIVE_OK) {
    return fail(ArchiveError(a.get(), "open", output));
  }
  for (const auto& m : members) {
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), m.entry.path.c_str());
    archive_entry_set_perm(e.get(), m.attrs.mode & 07777);
    archive_entry_set_uid(e.get(), m.attrs.uid);
    archive_entry_set_gid(e.get(), m.attrs.gid);
    if (m.attrs.mtime_ns >= 0) archive_entry_set_mtime(e.get(), m.attrs.mtime_ns / 1000000000, m.attrs.mtime_ns % 1000000000);
    switch (m.entry.type) {
      case ArchiveEntry::Type::kDir: archive_entry_set_filetype(e.get(), AE_IFDIR); break;
      case ArchiveEntry::Type::kSymlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_symlink(e.get(), m.entry.link_target.c_str());
        break;
      case ArchiveEntry::Type::kHardlink:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), m.entry.link_target.c_str());
        break;
      default:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(m.data.size()));
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail(ArchiveError(a.get(), "write entry " + m.entry.path + " to", output));
    if (m.entry.type == ArchiveEntry::Type::kFile && !m.data.empty() &&
        archive_write_data(a.get(), m.data.data(), m.data.size()) != static_cast<la_ssize_t>(m.data.size())) {
      return fail(ArchiveError(a.get(), "write data of " + m.entry.path + " to", output));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail(ArchiveError(a.get(), "finish", output));
  Status st = file->Sync();
  if (st.ok()) st = file->Close();
  if (!st.ok()) return fail(st);
  st = fs::RenameDurable(tmp, output, fsys);
  if (!st.ok()) (void)fsys->Unlink(tmp);
  return st;
}

Result<std::vector<TarMember>> ReadTarGz(const std::string& path, uint64_t max_bytes) {
  std::unique_ptr<::archive, ReadCloser> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 65536) != ARCHIVE_OK) {
    if (!fs::Exists(path)) return NotFound("archive " + path + " does not exist");
    return ArchiveError(a.get(), "open archive", path);
  }
  std::vector<TarMember> out;
  uint64_t total = 0;
  archive_entry* e;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return ArchiveError(a.get(), "read archive", path);
    TarMember m;
    const char* name = archive_entry_pathname(e);
    m.entry.path = name ? name : "";
    m.attrs.mode = archive_entry_perm(e);
    m.attrs.uid = static_cast<uint32_t>(archive_entry_uid(e));
    m.attrs.gid = static_cast<uint32_t>(archive_entry_gid(e));
    m.attrs.set_owner = true;
    m.attrs.mtime_ns = static_cast<int64_t>(archive_entry_mtime(e)) * 1000000000 + archive_entry_mtime_nsec(e);
    const char* hl = archive_entry_hardlink(e);
    auto type = archive_entry_filetype(e);
    if (hl) {
      m.entry.type = ArchiveEntry::Type::kHardlink;
      m.entry.link_target = hl;
    } else if (type == AE_IFREG) {
      m.entry.type = ArchiveEntry::Type::kFile;
      la_int64_t size = archive_entry_size(e);
      total += static_cast<uint64_t>(size < 0 ? 0 : size);
      if (total > max_bytes) return ResourceExhausted("archive " + path + " holds more than " + std::to_string(max_bytes) + " bytes");
      m.data.resize(static_cast<size_t>(size < 0 ? 0 : size));
      if (size > 0 && archive_read_data(a.get(), m.data.data(), m.data.size()) != size) {
        return ArchiveError(a.get(), "read " + m.entry.path + " from", path);
      }
    } else if (type == AE_IFDIR) {
      m.entry.type = ArchiveEntry::Type::kDir;
    } else if (type == AE_IFLNK) {
      m.entry.type = ArchiveEntry::Type::kSymlink;
      const char* t = archive_entry_symlink(e);
      m.entry.link_target = t ? t : "";
    } else {
      m.entry.type = ArchiveEntry::Type::kOther;
      m.entry.other_kind = type == AE_IFCHR ? "character device" : type == AE_IFBLK ? "block device"
                         : type == AE_IFIFO ? "fifo" : type == AE_IFSOCK ? "socket" : "special file";
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<ExtractStats> ExtractMembers(const std::vector<TarMember>& members, SafeTarget& target) {
  std::vector<ArchiveEntry> entries;
  for (const auto& m : members) entries.push_back(m.entry);
  RETURN_IF_ERROR(RefusalsToStatus(CheckEntries(entries), "archive"));
  ExtractStats st;
  for (const auto& m : members) {
    auto rel = CleanEntryPath(m.entry.path).value();
    if (m.entry.type == ArchiveEntry::Type::kDir) {
      RETURN_IF_ERROR(target.MakeDir(rel, m.attrs));
      ++st.dirs;
    } else if (m.entry.type == ArchiveEntry::Type::kFile) {
      RETURN_IF_ERROR(target.WriteFile(rel, m.data, m.attrs));
      ++st.files;
    }
  }
  for (const auto& m : members) {
    if (m.entry.type != ArchiveEntry::Type::kHardlink) continue;
    RETURN_IF_ERROR(target.Hardlink(CleanEntryPath(m.entry.path).value(), CleanEntryPath(m.entry.link_target).value()));
    ++st.hardlinks;
  }
  // Symlinks last: nothing above is ever written through one.
  for (const auto& m : members) {
    if (m.entry.type != ArchiveEntry::Type::kSymlink) continue;
    RETURN_IF_ERROR(target.Symlink(CleanEntryPath(m.entry.path).value(), m.entry.link_target));
    ++st.symlinks;
  }
  RETURN_IF_ERROR(target.Sync());
  return st;
}

}  // namespace ailee::archive
