#!/usr/bin/env bash
# Measures the core's performance targets as whole processes, in release:
#   - importing a 100,000-row roster                      (target <= 1 s)
#   - `incident list --json` over 10,000 incidents       (target <= 100 ms)
#   - `people list ID --pending --json` over 100,000     (target <= 500 ms)
# Usage: benches/core.sh [RUNS]   (needs hyperfine; installed with apt-get when run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

. benches/hyperfine.sh

cargo build --profile dist --quiet --bin breachdesk --example seed
bin=$PWD/target/dist/breachdesk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 100,000 people across categories and locations.
awk 'BEGIN {
  print "employee_id,name,email,categories,location"
  split("keystrokes|mouse-movements;chat-messages|transcripts|performance-data;screenshots", c, "|")
  split("US-CA DE NZ US-TX FR", l, " ")
  for (i = 0; i < 100000; i++)
    printf "E%06d,Person %d,person%d@corp.example,%s,%s\n", i, i, i, c[i % 4 + 1], l[i % 5 + 1]
}' > "$work/roster.csv"

./target/dist/examples/seed "$work/many" 10000
"$bin" --db "$work/big" incident open --title "Roster benchmark" --severity 2 >/dev/null
"$bin" --db "$work/big" people import 1 "$work/roster.csv" >/dev/null

hyperfine --warmup 1 --runs "$runs" \
  --prepare "rm -rf $work/imp && $bin --db $work/imp incident open --title bench --severity 2" \
  -n "import 100k roster" "$bin --db $work/imp people import 1 $work/roster.csv"
hyperfine -N --warmup 3 --runs "$runs" \
  -n "incident list --json (10k)" "$bin --db $work/many incident list --json" \
  -n "people list --pending --json (100k)" "$bin --db $work/big people list 1 --pending --json"
