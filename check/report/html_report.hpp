#pragma once
// A self-contained HTML page of a checked history: one lane per client, each
// operation a bar from call to return coloured by outcome (an info bar runs
// to the end), faults shaded on the time axis, the failing part outlined
// with its longest linearizable prefix and the operation that cannot be
// placed, details on hover. When its script has drawn the page it sets
// data-rendered="<number of bars>" on <body> (a script error leaves it unset).

#include <string>
#include <string_view>

#include "check/linearizability/checker.hpp"
#include "check/history/history.hpp"

namespace dkv::check {

std::string render_html_report(const history& h, const check_report& report, std::string_view title);

}  // namespace dkv::check
