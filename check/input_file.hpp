#pragma once
// Reading a file a tool was given as input (a history for dkv-check, a
// scenario for dkv-sim). What cannot be input is refused with why, rather
// than read as nothing: a directory, a file that does not exist or cannot be
// opened or read, and an empty or blank file (only spaces, tabs and line
// ends). Read as nothing, each of them used to pass unnoticed — an empty
// history is linearizable and an empty scenario is the default run — so a
// mistyped path looked like a success.

#include <string>

namespace dkv::check {

// The whole text of `path` into `text`, or false with why in `why`: a phrase
// to follow the file's name ("is a directory", "is empty", "cannot open:
// No such file or directory").
bool read_input_file(const std::string& path, std::string& text, std::string& why);

// The same refusals without keeping the text, so that a tool can refuse its
// bad inputs before it starts on the good ones: a regular file is read only
// up to its first non-blank byte. Anything else that is not a directory (a
// pipe, a device) is only looked at, not opened — it might be readable only
// once — and read_input_file judges it later. Empty when the file will do.
std::string input_problem(const std::string& path);

}  // namespace dkv::check
