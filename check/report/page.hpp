#pragma once
// The report page's HTML, CSS and script (html_report.hpp): the page's data,
// one JSON object, goes between the head and the tail.

#include <string_view>

namespace dkv::check {

extern const std::string_view report_page_head;
extern const std::string_view report_page_tail;

}  // namespace dkv::check
