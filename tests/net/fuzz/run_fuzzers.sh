#!/usr/bin/env bash
# Builds the protocol fuzzers with clang++ (libFuzzer + ASan + UBSan) and runs
# each for a bounded number of inputs. The main build uses g++, which has no
# libFuzzer, so this compiles the codec's sources directly.
#
#   run_fuzzers.sh OUTDIR
#
# FUZZ_RUNS     inputs per fuzzer (default 200000)
# FUZZ_SECONDS  time guard per fuzzer, whichever comes first (default 20)
# CXX_FUZZ      the compiler (default clang++)
#
# Seeds: corpus/<fuzzer>/, a few valid messages, and for frame_fuzzer a few
# frame streams in its input form ([chunk length u8][chunk bytes]...). What
# the fuzzers find is kept in OUTDIR/corpus, not in the source tree.
#
# Exit 0: no crash; 77: clang++ or its fuzzer runtime is missing (CTest
# SKIP_RETURN_CODE); 1: a fuzzer crashed (the input is kept and the command
# that reproduces it printed) or did not build.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
runs=${FUZZ_RUNS:-200000}
seconds=${FUZZ_SECONDS:-20}
cxx=${CXX_FUZZ:-clang++}
fuzzers=(message_fuzzer frame_fuzzer)
# Inputs are capped small: a message's interesting part is its first few
# dozen bytes, a stream's a few frames of at most 64 bytes (frame_fuzzer's
# limit). Longer inputs only slow the run down.
declare -A max_len=([message_fuzzer]=512 [frame_fuzzer]=1024)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -Wall -Wextra -Wpedantic -I"$root")

# Skip, not fail, where the toolchain is absent: probe with an empty target.
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run_fuzzers: $cxx not found (Debian: clang libclang-rt-14-dev); skipped"
  exit 77
fi
probe="$out/probe.cpp"
printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
  'extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }' >"$probe"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/probe" 2>"$out/probe.log"; then
  echo "run_fuzzers: $cxx cannot link libFuzzer (Debian: libclang-rt-14-dev); skipped"
  sed 's/^/  /' "$out/probe.log"
  exit 77
fi

# Build both at once: each is a few seconds of compiling.
pids=()
for f in "${fuzzers[@]}"; do
  "$cxx" "${flags[@]}" "$root"/net/protocol/*.cpp "$here/$f.cpp" -o "$out/$f" 2>"$out/$f.build.log" &
  pids+=($!)
done
built=0
for i in "${!fuzzers[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "run_fuzzers: ${fuzzers[$i]} did not build:"
    cat "$out/${fuzzers[$i]}.build.log"
    built=1
  elif [ -s "$out/${fuzzers[$i]}.build.log" ]; then
    echo "run_fuzzers: ${fuzzers[$i]} built with warnings:"
    cat "$out/${fuzzers[$i]}.build.log"
    built=1
  fi
done
[ $built -eq 0 ] || exit 1

status=0
for f in "${fuzzers[@]}"; do
  # New inputs go to the first corpus directory, in OUTDIR, so the committed
  # seeds stay as they are; later runs start from what earlier ones found.
  corpus="$out/corpus/$f"
  artifacts="$out/artifacts/$f"
  mkdir -p "$corpus" "$artifacts"
  rm -f "$artifacts"/*
  start_ms=$(date +%s%3N)
  "$out/$f" -runs="$runs" -max_total_time="$seconds" -max_len="${max_len[$f]}" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$here/corpus/$f" >"$out/$f.log" 2>&1
  rc=$?
  elapsed_ms=$(($(date +%s%3N) - start_ms))
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/$f.log" | tail -1)
  execs=$(grep -E '^stat::number_of_executed_units:' "$out/$f.log" | awk '{print $2}')
  printf 'run_fuzzers: %s: exit %d, %s inputs in %d.%03d s; %s\n' "$f" "$rc" "${execs:-?}" \
    $((elapsed_ms / 1000)) $((elapsed_ms % 1000)) "${done_line:-no DONE line}"
  if [ $rc -ne 0 ]; then
    status=1
    echo "run_fuzzers: $f FAILED; the end of its log ($out/$f.log):"
    tail -40 "$out/$f.log"
    for crash in "$artifacts"/*; do
      [ -e "$crash" ] || continue
      echo "run_fuzzers: the failing input: $crash"
      echo "run_fuzzers: reproduce with:    $out/$f $crash"
    done
  fi
done
exit $status
