#!/usr/bin/env bash
# Measures the steps that must stay in bounded memory, as whole processes in release, under
# /usr/bin/time (elapsed seconds and peak resident memory):
#   - `people import` of a 1,000,000-row roster into a fresh incident (<= 10 s, <= 400 MB)
#   - `notify bounces --mbox` over a 1 GB mbox of real postfix bounces (< 64 MB)
# Usage: benches/memory.sh [ROWS] [MBOX_MB]   (defaults 1000000 and 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
mbox_mb=${2:-1024}

cargo build --profile dist --quiet --bin breachdesk
bin=$PWD/target/dist/breachdesk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/home/data" XDG_CONFIG_HOME="$work/home/config"

measure() { # label, command...
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
  read -r secs kb <"$work/time"
  printf '%-52s %6.2f s  %5d MB\n' "$label" "$secs" $((kb / 1024))
}

awk -v n="$rows" 'BEGIN {
  print "employee_id,name,email,categories,location"
  split("keystrokes|mouse-movements;chat-messages|transcripts|performance-data;screenshots", c, "|")
  split("US-CA DE NZ US-TX FR", l, " ")
  for (i = 0; i < n; i++)
    printf "E%07d,Person %d,person%d@corp.example,%s,%s\n", i, i, i, c[i % 4 + 1], l[i % 5 + 1]
}' >"$work/roster.csv"
"$bin" --db "$work/db" incident open --title "Import benchmark" --severity 2 >/dev/null
measure "people import of $rows rows" "$bin" --db "$work/db" people import 1 "$work/roster.csv"
rm -f "$work/roster.csv"

# The postfix bounces of tests/fixtures/bounces/bounces.mbox, repeated to the size asked.
fixture=tests/fixtures/bounces/bounces.mbox
per_mb=$((1024 * 1024 / $(stat -c %s "$fixture") + 1))
for _ in $(seq 1 "$per_mb"); do cat "$fixture"; done >"$work/chunk"
for _ in $(seq 1 "$mbox_mb"); do cat "$work/chunk"; done >"$work/bounces.mbox"
size=$(($(stat -c %s "$work/bounces.mbox") / 1024 / 1024))
measure "notify bounces --mbox of $size MB" "$bin" --db "$work/db" notify bounces --mbox "$work/bounces.mbox"
