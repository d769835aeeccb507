// Every unsafe archive entry is refused, by name and reason, and nothing is
// written outside (or, for a refused archive, inside) the target. The
// malicious archives are built with libarchive directly.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <functional>

#include "archive/paths.h"
#include "ops/config/restore.h"
#include "ops_config_test_util.h"

// Entries list only the fields they need.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ailee::ops {
namespace {

using testing::Get;

struct Raw {
  std::string path;
  unsigned type = AE_IFREG;
  std::string data;
  std::string symlink;
  std::string hardlink;
};

void WriteRawTarGz(const std::string& file, const std::vector<Raw>& entries) {
  ::archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const auto& r : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, r.path.c_str());
    archive_entry_set_filetype(e, r.type);
    archive_entry_set_perm(e, 0644);
    if (!r.symlink.empty()) archive_entry_set_symlink(e, r.symlink.c_str());
    if (!r.hardlink.empty()) archive_entry_set_hardlink(e, r.hardlink.c_str());
    if (r.type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
    if (r.type == AE_IFREG && r.hardlink.empty()) archive_entry_set_size(e, static_cast<la_int64_t>(r.data.size()));
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << r.path;
    if (!r.data.empty()) archive_write_data(a, r.data.data(), r.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

class ArchiveSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ailee-ops-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    outside_ = dir_ + "/outside";
    target_ = dir_ + "/box/target";
    ASSERT_TRUE(fs::MakeDirs(outside_).ok());
    testing::Put(outside_ + "/victim", "original\n");
  }
  void TearDown() override { (void)fs::RemoveAll(dir_); }

  // Imports `entries`; expects a refusal naming `name` with `why` in it, and
  // nothing written anywhere.
  void ExpectRefused(const std::vector<Raw>& entries, const std::string& name, const std::string& why) {
    std::string file = dir_ + "/evil.tar.gz";
    WriteRawTarGz(file, entries);
    ConfigImportOptions o;
    o.validate = false;
    auto r = ImportConfigArchive(file, target_, o);
    ASSERT_FALSE(r.ok()) << "archive with " << name << " was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("'" + name + "'"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
    EXPECT_FALSE(fs::Exists(target_)) << "refused archive still created the target";
    EXPECT_EQ(*fs::ListDir(outside_), std::vector<std::string>{"victim"});
    EXPECT_EQ(Get(outside_ + "/victim"), "original\n");
    EXPECT_FALSE(fs::Exists(dir_ + "/box/evil"));
    EXPECT_FALSE(fs::Exists(dir_ + "/evil"));
  }

  std::string dir_, outside_, target_;
};

TEST_F(ArchiveSafetyTest, AbsolutePath) {
  ExpectRefused({{"ok.txt", AE_IFREG, "fine"}, {outside_ + "/victim", AE_IFREG, "pwned"}}, outside_ + "/victim", "absolute path");
}

TEST_F(ArchiveSafetyTest, DotDotComponents) {
  ExpectRefused({{"../evil", AE_IFREG, "x"}}, "../evil", "'..' component");
  ExpectRefused({{"a/../../evil", AE_IFREG, "x"}}, "a/../../evil", "'..' component");
}

TEST_F(ArchiveSafetyTest, SymlinkEscapingAndWritesThroughIt) {
  ExpectRefused({{"link", AE_IFLNK, "", outside_}}, "link", "absolute path");
  ExpectRefused({{"etc/link", AE_IFLNK, "", "../../../outside"}}, "etc/link", "outside the target");
  ExpectRefused({{"dir", AE_IFLNK, "", "."}, {"up", AE_IFLNK, "", "dir/.."}}, "up", "passes through another symlink");
  ExpectRefused({{"link", AE_IFLNK, "", "sub"}, {"link/victim", AE_IFREG, "pwned"}}, "link/victim", "is a symlink");
}

TEST_F(ArchiveSafetyTest, HardlinkEscaping) {
  ExpectRefused({{"h", AE_IFREG, "", "", outside_ + "/victim"}}, "h", "points outside the target");
  ExpectRefused({{"h", AE_IFREG, "", "", "../outside/victim"}}, "h", "points outside the target");
  ExpectRefused({{"h", AE_IFREG, "", "", "not-in-archive"}}, "h", "not a regular file of this archive");
}

TEST_F(ArchiveSafetyTest, DeviceNodesAndFifos) {
  ExpectRefused({{"dev/null", AE_IFCHR}}, "dev/null", "character device");
  ExpectRefused({{"pipe", AE_IFIFO}}, "pipe", "fifo");
}

TEST_F(ArchiveSafetyTest, CollidingNames) {
  ExpectRefused({{"a.conf", AE_IFREG, "one"}, {"./a.conf", AE_IFREG, "two"}}, "./a.conf", "collides");
  ExpectRefused({{"a", AE_IFREG, "file"}, {"a/b", AE_IFREG, "under a file"}}, "a/b", "not a directory");
}

TEST_F(ArchiveSafetyTest, ExistingSymlinkInTargetIsNeverFollowed) {
  ASSERT_TRUE(fs::MakeDirs(target_).ok());
  ASSERT_EQ(::symlink(outside_.c_str(), (target_ + "/etc").c_str()), 0);
  std::string file = dir_ + "/plain.tar.gz";
  WriteRawTarGz(file, {{"etc/victim", AE_IFREG, "pwned"}});
  ConfigImportOptions o;
  o.validate = false;
  auto r = ImportConfigArchive(file, target_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("symlink"), std::string::npos) << r.status().message();
  EXPECT_EQ(Get(outside_ + "/victim"), "original\n");
}

TEST_F(ArchiveSafetyTest, SafeLinksInsideTheTargetAreRestored) {
  std::string file = dir_ + "/good.tar.gz";
  WriteRawTarGz(file, {{"etc/nginx/sites-available/ailee", AE_IFREG, "server {}\n"},
                       {"etc/nginx/sites-enabled/ailee", AE_IFLNK, "", "../sites-available/ailee"},
                       {"etc/nginx/copy", AE_IFREG, "", "", "etc/nginx/sites-available/ailee"}});
  ConfigImportOptions o;
  o.validate = false;
  auto r = ImportConfigArchive(file, target_, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stats.files, 1u);
  EXPECT_EQ(r->stats.symlinks, 1u);
  EXPECT_EQ(r->stats.hardlinks, 1u);
  EXPECT_EQ(Get(target_ + "/etc/nginx/sites-enabled/ailee"), "server {}\n");
  EXPECT_EQ(Get(target_ + "/etc/nginx/copy"), "server {}\n");
}

}  // namespace
}  // namespace ailee::ops
