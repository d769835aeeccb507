// The drill report as one self-contained HTML page (`drill --html FILE`):
// no external assets, no scripts. An inline SVG timeline of the phases,
// the checks with pass/fail, the RTO/RPO targets with the measured values
// beside them, and earlier drills of the node as a trend (inline SVG bars
// of RTO, and a table). Every text from the report is HTML-escaped.
#pragma once

#include <string>
#include <vector>

#include "ops/drill/drill.h"
#include "ops/drill/report.h"

namespace ailee::ops {

// `history`: earlier drills, oldest first (this one is added at the end).
std::string RenderDrillHtml(const DrillReport& r, const std::vector<DrillHistoryEntry>& history);

}  // namespace ailee::ops
