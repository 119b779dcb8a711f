#!/usr/bin/env bash
# Fails if a Catch2 TEST_CASE name holds a ';'. catch_discover_tests makes a
# CTest test of each name, and CTest cuts a name at ';' (a list separator):
# the test it then runs matches no case, runs nothing and passes. Nineteen
# tests ran nothing that way before this check.
set -euo pipefail
found=$(grep -rPzl --include='*.cpp' 'TEST_CASE\(\s*("(?:[^"\\]|\\.)*"\s*)*"(?:[^"\\]|\\.)*;' "${1:?usage: check_test_names.sh TESTS_DIR}" || true)
if [ -n "$found" ]; then
  echo "TEST_CASE names with ';' (ctest would run nothing for them) in:"
  echo "$found"
  exit 1
fi
echo "no TEST_CASE name holds ';'"
