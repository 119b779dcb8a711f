#!/usr/bin/env bash
# Run by build_examples.cmake for examples/three_processes, once it is built
# against the installed package: starts three processes of PROGRAM on
# 127.0.0.1, one per member of a 3-member cluster, in the order 3, 1, 2 with
# half a second between them (so the first waits for the others: members may
# start in any order), and requires each to exit 0 within 60 s with the three
# greetings in its output. Prints every member's output and, last, a line
# starting with PASS or FAIL. Kills only the processes it started.
#
# usage: run_three_processes.sh PROGRAM WORK_DIR
#
# Ports: three consecutive ones from a random base in 20000-59999. A member
# that cannot listen exits 2 (the port is taken, say): then the others are
# stopped and all three start again on other ports, up to three attempts.

set -u
program=$1
work=$2
limit=60  # seconds each member may take; the example gives up by itself after ~20 s
pids=()
started=

# Milliseconds since the attempt started (EPOCHREALTIME: microseconds, bash 5).
elapsed() { echo "$(((${EPOCHREALTIME/[.,]/} - ${started/[.,]/}) / 1000)) ms"; }

# Stops the members still running (their `timeout` wrappers pass SIGTERM
# on, and SIGKILL 5 s later if need be) and reaps them.
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  pids=()
}
trap stop_all EXIT

show_logs() {
  local m
  for m in 1 2 3; do
    echo "--- member $m:"
    cat "$1/member-$m.log"
  done
}

# One attempt in directory $1. Returns 0 passed, 1 failed, 2 a port was taken.
attempt() {
  local dir=$1
  local base=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
  local members="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
  local -A member_of=()
  local m k p pid rc failed=0
  local -a rest
  echo "members $members"
  for m in 3 1 2; do
    timeout -k 5 "$limit" "$program" --member "$m" --members "$members" --data-dir "$dir/member-$m" \
      >"$dir/member-$m.log" 2>&1 &
    pids+=("$!")
    member_of[$!]=$m
    sleep 0.5
  done
  # Whichever member finishes first: a failure stops the others at once.
  while ((${#pids[@]} > 0)); do
    wait -n -p pid "${pids[@]}"
    rc=$?
    m=${member_of[$pid]}
    rest=()
    for p in "${pids[@]}"; do [[ $p == "$pid" ]] || rest+=("$p"); done
    pids=("${rest[@]}")
    if ((rc == 0)); then
      echo "member $m exited 0 after $(elapsed)"
      continue
    fi
    echo "member $m exited $rc after $(elapsed)$( ((rc == 124)) && echo ' (killed: over the time limit)')"
    stop_all
    show_logs "$dir"
    ((rc == 2)) && return 2
    return 1
  done
  # Every member exited 0: each must have read all three greetings and passed.
  for m in 1 2 3; do
    for k in 1 2 3; do
      if ! grep -q "^member $m read: member-$k = hello from $k\$" "$dir/member-$m.log"; then
        echo "member $m did not print member-$k = hello from $k"
        failed=1
      fi
    done
    if [[ "$(tail -n 1 "$dir/member-$m.log")" != "PASS: three_processes member $m" ]]; then
      echo "member $m: the last line is not PASS: three_processes member $m"
      failed=1
    fi
  done
  show_logs "$dir"
  return $failed
}

for n in 1 2 3; do
  dir="$work/attempt-$n"
  rm -rf "$dir"
  mkdir -p "$dir"
  started=$EPOCHREALTIME
  attempt "$dir"
  rc=$?
  if ((rc == 0)); then
    echo "PASS: three processes, one cluster, in $(elapsed)"
    exit 0
  fi
  ((rc == 2)) || break
  echo "a port was taken: again on other ports"
done
echo "FAIL: three processes"
exit 1
