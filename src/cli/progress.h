// A single self-overwriting progress line on stderr when it is a terminal
// (rate and ETA); silent otherwise, with --json or --quiet.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.h"

namespace ailee::cli {

class ProgressLine {
 public:
  ProgressLine(const GlobalOptions& g, std::string label);
  ~ProgressLine();
  void Update(const std::string& phase, uint64_t done, uint64_t total);
  void Done();

 private:
  bool enabled_;
  std::string label_;
  int64_t start_ns_;
  int64_t last_ns_ = 0;
  bool printed_ = false;
};

}  // namespace ailee::cli
