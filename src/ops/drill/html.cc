#include "ops/drill/html.h"

#include <algorithm>
#include <cstdio>

#include "base/clock.h"

namespace ailee::ops {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string Verdict(bool ok) { return ok ? "<td class=\"pass\">pass</td>" : "<td class=\"fail\">FAIL</td>"; }

constexpr const char* kColors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"};

// One bar per phase on a common time axis; each bar is a <g class="phase"
// data-phase="NAME"> so tools (and the tests) find every phase.
std::string Timeline(const DrillReport& r) {
  int64_t total = 1;
  for (const auto& p : r.phases) total = std::max(total, p.start_ms + p.duration_ms);
  const int width = 760, left = 90, row = 26;
  const int height = static_cast<int>(r.phases.size()) * row + 30;
  std::string svg = "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width + left + 20) +
                    "\" height=\"" + std::to_string(height) + "\" role=\"img\" aria-label=\"phase timeline\">\n";
  for (size_t i = 0; i < r.phases.size(); ++i) {
    const auto& p = r.phases[i];
    const int y = static_cast<int>(i) * row + 4;
    const int x = left + static_cast<int>(p.start_ms * width / total);
    const int w = std::max(2, static_cast<int>(p.duration_ms * width / total));
    svg += "<g class=\"phase\" data-phase=\"" + Escape(p.name) + "\"><text x=\"0\" y=\"" + std::to_string(y + 16) + "\">" +
           Escape(p.name) + "</text><rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
           std::to_string(w) + "\" height=\"20\" fill=\"" + kColors[i % 7] + "\"><title>" + Escape(p.name) + ": " +
           Seconds(p.duration_ms) + "</title></rect><text x=\"" + std::to_string(std::min(x + w + 4, left + width - 60)) +
           "\" y=\"" + std::to_string(y + 16) + "\">" + Seconds(p.duration_ms) + "</text></g>\n";
  }
  svg += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(height - 8) + "\" x2=\"" +
         std::to_string(left + width) + "\" y2=\"" + std::to_string(height - 8) + "\" stroke=\"#333\"/>\n";
  svg += "<text x=\"" + std::to_string(left + width - 80) + "\" y=\"" + std::to_string(height) + "\">" + Seconds(total) +
         "</text></svg>\n";
  return svg;
}

std::string Targets(const DrillReport& r) {
  const auto& t = r.targets;
  std::string rows;
  auto row = [&](const std::string& what, const std::string& target, const std::string& measured, bool ok) {
    rows += "<tr><td>" + what + "</td><td>" + target + "</td><td>" + measured + "</td>" + Verdict(ok) + "</tr>\n";
  };
  row("RTO (restore + start + catch-up)", "&lt; " + Seconds(t.rto_s * 1000), Seconds(r.rto_ms), r.rto_ms < t.rto_s * 1000);
  row("RPO (time)", "&lt; " + Seconds(t.rpo_s * 1000), Seconds(r.rpo_ms), r.rpo_ms < t.rpo_s * 1000);
  if (t.rpo_blocks) {
    row("RPO (blocks)", "&le; " + std::to_string(*t.rpo_blocks), std::to_string(r.rpo_blocks) + " blocks",
        r.rpo_blocks <= *t.rpo_blocks);
  } else {
    rows += "<tr><td>RPO (blocks)</td><td>none set</td><td>" + std::to_string(r.rpo_blocks) + " blocks</td><td></td></tr>\n";
  }
  return "<table id=\"targets\"><tr><th>objective</th><th>target</th><th>measured</th><th></th></tr>\n" + rows + "</table>\n";
}

std::string Trend(const DrillReport& r, const std::vector<DrillHistoryEntry>& history) {
  std::vector<DrillHistoryEntry> all = history;
  all.push_back({"(this drill)", kStateDrillPart, r.started_ms, r.ok, r.failed_check, r.rto_ms, r.rpo_blocks, r.rpo_ms});
  if (all.size() > 30) all.erase(all.begin(), all.end() - 30);
  int64_t top = 1;
  for (const auto& e : all) top = std::max(top, e.rto_ms);
  const int bar = 22, height = 120;
  std::string svg = "<svg id=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(static_cast<int>(all.size()) * bar + 10) + "\" height=\"" + std::to_string(height + 4) +
                    "\" role=\"img\" aria-label=\"RTO of each drill\">\n";
  std::string rows;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    const int h = std::max(2, static_cast<int>(e.rto_ms * height / top));
    svg += "<rect x=\"" + std::to_string(static_cast<int>(i) * bar + 4) + "\" y=\"" + std::to_string(height - h) +
           "\" width=\"" + std::to_string(bar - 6) + "\" height=\"" + std::to_string(h) + "\" fill=\"" +
           (e.ok ? "#59a14f" : "#e15759") + "\"><title>" + FormatUtc(e.started_ms / 1000) + ": RTO " + Seconds(e.rto_ms) +
           "</title></rect>\n";
    rows += "<tr><td>" + FormatUtc(e.started_ms / 1000) + "</td>" + Verdict(e.ok) + "<td>" + Escape(e.failed_check) +
            "</td><td>" + Seconds(e.rto_ms) + "</td><td>" + std::to_string(e.rpo_blocks) + " blocks, " + Seconds(e.rpo_ms) +
            "</td><td><code>" + Escape(e.snapshot_id.substr(0, 12)) + "</code></td></tr>\n";
  }
  svg += "</svg>\n";
  return svg + "<table id=\"history\"><tr><th>started</th><th></th><th>failed check</th><th>RTO</th><th>RPO</th>"
               "<th>report</th></tr>\n" + rows + "</table>\n";
}

}  // namespace

std::string RenderDrillHtml(const DrillReport& r, const std::vector<DrillHistoryEntry>& history) {
  std::string checks;
  for (const auto& c : r.checks) {
    checks += "<tr class=\"check\" data-check=\"" + Escape(c.name) + "\"><td>" + Escape(c.name) + "</td>" + Verdict(c.ok) +
              "<td>" + Escape(c.detail) + "</td></tr>\n";
  }
  std::string phases;
  for (const auto& p : r.phases) phases += "<tr><td>" + Escape(p.name) + "</td><td>" + Seconds(p.duration_ms) + "</td></tr>\n";
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<title>AILEE recovery drill: " + Escape(r.node_id) + " " + FormatUtc(r.started_ms / 1000) + "</title>\n"
         "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.pass{color:#1a7f37;font-weight:bold}"
         ".fail{color:#c62828;font-weight:bold}svg text{font-size:12px}</style></head><body>\n"
         "<h1>Recovery drill of node " + Escape(r.node_id) + ": <span id=\"verdict\" class=\"" +
         (r.ok ? "pass\">PASSED" : "fail\">FAILED (" + Escape(r.failed_check) + ")") + "</span></h1>\n"
         "<p>Started " + FormatUtc(r.started_ms / 1000) + ". Recovery point: " + Escape(r.point) + "; snapshot <code>" +
         Escape(r.snapshot_id.substr(0, 12)) + "</code> at height " + std::to_string(r.snapshot_height) + " + " +
         std::to_string(r.blocks_replayed) + " archived blocks = height " + std::to_string(r.restored_height) +
         ". Network tip at drill start: " + std::to_string(r.network_tip) + ".</p>\n"
         "<h2>Timeline</h2>\n" + Timeline(r) +
         "<table id=\"phases\"><tr><th>phase</th><th>duration</th></tr>\n" + phases +
         "<tr><th>RTO (all but compare)</th><th>" + Seconds(r.rto_ms) + "</th></tr></table>\n"
         "<h2>Objectives</h2>\n" + Targets(r) +
         "<h2>Checks</h2>\n<table id=\"checks\"><tr><th>check</th><th></th><th>detail</th></tr>\n" + checks + "</table>\n"
         "<h2>Earlier drills</h2>\n" + Trend(r, history) + "</body></html>\n";
}

}  // namespace ailee::ops
