#!/usr/bin/env bash
# Measures `evidence import` of a 10,000,000-row access log against a 100,000-person roster,
# in release: target <= 30 s and memory bounded (it must not grow with the number of rows;
# the run at a tenth of the rows shows that).
# Usage: benches/evidence.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
cargo build --release --quiet --bin breachdesk --example tui_bench
bin=$PWD/target/release/breachdesk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_DATA_HOME="$work/home/data"
awk 'BEGIN {
  print "employee_id,name,email,categories,location"
  for (i = 0; i < 100000; i++) printf "E%06d,Person %d,person%d@corp.example,keystrokes,DE\n", i, i, i
}' > "$work/roster.csv"
"$bin" --db "$work/db" incident open --title "Evidence benchmark" --severity 2 >/dev/null
"$bin" --db "$work/db" people import 1 "$work/roster.csv" >/dev/null
gen() {
  awk -v n="$1" 'BEGIN {
    print "accessed_at,accessor,employee_id,action"
    srand(7)
    for (i = 0; i < n; i++) {
      printf "2026-11-%02dT%02d:%02d:%02dZ,user%d,E%06d,%s\n", 1 + i % 28, i % 24, i % 60, i % 59, int(rand() * 5000), int(rand() * 100000), (i % 97 == 0 ? "download" : "read")
    }
  }' > "$2"
}
for n in $((rows / 10)) "$rows"; do
  gen "$n" "$work/access.csv"
  size=$(du -h "$work/access.csv" | cut -f1)
  echo "== $n rows ($size)"
  /usr/bin/time -f "evidence import: %e s, peak RSS %M KB" "$bin" --db "$work/db" evidence import 1 "$work/access.csv"
done
# The same 10,000,000 rows imported from the terminal UI (Deadlines tab, `I`), in the
# background: key + frame timed on the tab all the while.
: > "$work/empty.toml"
target/release/examples/tui_bench "$work/db" "$work/empty.toml" --during-evidence "$work/access.csv"
