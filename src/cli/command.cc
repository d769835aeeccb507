#include "cli/command.h"

#include <iostream>

namespace ailee::cli {
namespace {
bool& JsonPrinted() {
  static bool printed = false;
  return printed;
}
Status& ResultSlot() {
  static Status s;
  return s;
}
}  // namespace

void SetResult(Status status) { ResultSlot() = std::move(status); }
Status TakeResult() { return std::exchange(ResultSlot(), Status::Ok()); }

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument: return kExitUsage;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kAlreadyExists: return kExitAlreadyExists;
    case StatusCode::kDataLoss: return kExitVerifyFailed;
    case StatusCode::kUnavailable: case StatusCode::kAborted: return kExitUnavailable;
    case StatusCode::kPermissionDenied: return kExitAuth;
    case StatusCode::kResourceExhausted: return kExitNoSpace;
    case StatusCode::kFailedPrecondition: case StatusCode::kInternal: return kExitFailure;
  }
  return kExitFailure;
}

// Paths and names are bytes, JSON is UTF-8: a byte that is not UTF-8 (a
// Latin-1 file name) prints as U+FFFD instead of aborting the process.
void PrintJson(const nlohmann::json& doc) {
  std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  JsonPrinted() = true;
}

void PrintOrderedJson(const nlohmann::ordered_json& doc) {
  std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << std::endl;
  JsonPrinted() = true;
}

bool JsonWasPrinted() { return JsonPrinted(); }

void PrintLine(const GlobalOptions& g, const std::string& line) {
  if (!g.json && !g.quiet) std::cout << line << std::endl;
}

}  // namespace ailee::cli
