// Power loss while WriteTarGz replaces an archive (the config export's
// write): for every k, the power goes out right after the k-th filesystem
// call; after the reboot the output is the old archive or the complete new
// one, never a torn file, and once WriteTarGz reported success the new one.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "archive/tar.h"
#include "base/fault_injection_file_system.h"
#include "base/fs.h"

namespace ailee::archive {
namespace {

std::vector<TarMember> Members(const std::string& seed, size_t files) {
  std::vector<TarMember> out;
  for (size_t i = 0; i < files; ++i) {
    TarMember m;
    m.entry.path = "etc/ailee/" + seed + "-" + std::to_string(i) + ".toml";
    m.attrs.mode = 0600;
    m.attrs.mtime_ns = 1700000000000000000LL;
    for (size_t j = 0; j < 20000; ++j) m.data += static_cast<char>((j * 7919 + i * 31 + seed.size()) % 251);
    out.push_back(std::move(m));
  }
  return out;
}

// The member paths and contents, or empty when the archive does not read.
std::vector<std::pair<std::string, std::string>> Contents(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  auto members = ReadTarGz(path);
  if (!members.ok()) return out;
  for (const auto& m : *members) out.emplace_back(m.entry.path, m.data);
  return out;
}

TEST(ArchiveTarPowerLoss, ReplacingAnArchive) {
  char tmpl[] = "/tmp/ailee-tar-power-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string output = dir + "/config.tar.gz";
  const std::string old_copy = dir + "/old.tar.gz";
  ASSERT_TRUE(WriteTarGz(old_copy, Members("old", 3)).ok());
  const auto old_contents = Contents(old_copy);
  const auto next = Members("new", 8);
  ASSERT_FALSE(old_contents.empty());

  fs::FaultInjectionFileSystem faulty;
  auto reset = [&] {
    std::filesystem::remove(output);
    std::filesystem::copy_file(old_copy, output);
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name != "config.tar.gz" && name != "old.tar.gz") std::filesystem::remove(e.path());
    }
    faulty.MarkAllDurable();
  };
  reset();
  const uint64_t before = faulty.calls();
  ASSERT_TRUE(WriteTarGz(output, next, &faulty).ok());
  const uint64_t total = faulty.calls() - before;
  const auto new_contents = Contents(output);
  ASSERT_EQ(new_contents.size(), next.size());
  ASSERT_GE(total, 6u);  // create, append, sync, close, rename, sync of the directory

  int olds = 0, news = 0;
  for (uint64_t k = 1; k <= total; ++k) {
    SCOPED_TRACE("power lost after filesystem call " + std::to_string(k) + " of " + std::to_string(total));
    reset();
    faulty.CutPowerAfter(k);
    const bool done = WriteTarGz(output, next, &faulty).ok();
    ASSERT_TRUE(faulty.SimulatePowerLoss().ok());
    const auto got = Contents(output);
    EXPECT_TRUE(got == old_contents || got == new_contents) << "a torn archive at the output";
    if (done) {
      EXPECT_TRUE(got == new_contents) << "WriteTarGz reported success, the old archive came back";
    }
    (got == new_contents ? news : olds)++;
  }
  EXPECT_GT(olds, 0);
  EXPECT_GT(news, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ailee::archive
