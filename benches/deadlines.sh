#!/usr/bin/env bash
# Measures `deadlines` as a whole process, in release (target: <= 200 ms), over 10,000
# incidents (seeded through the desk by examples/seed.rs) one of which has a 100,000-person
# roster across 60 locations, some under no shipped rule (counted, never dropped).
# Usage: benches/deadlines.sh [RUNS]   (needs hyperfine; installed with apt-get when run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

. benches/hyperfine.sh

cargo build --profile dist --quiet --bin breachdesk --example seed
bin=$PWD/target/dist/breachdesk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/home/data" XDG_CONFIG_HOME="$work/home/config"

awk 'BEGIN {
  print "employee_id,name,email,categories,location"
  n = split("US-CA US-NY US-TX US-FL US-WA US-CO US-IL US-MA US-GA US-VA US-DC US-PA US-NJ US-OR US-NC US-OH US-MI US-AZ US-MN US-MD DE FR IT ES NL BE SE PL IE AT DK FI PT CZ GR RO HU NO GB NZ CA JP IN BR SG AU CH IL MX KR ZA PH TR NG KE CN HK TW AE AR", l, " ")
  split("keystrokes|mouse-movements;chat-messages|transcripts|performance-data;screenshots|health-data", c, "|")
  for (i = 0; i < 100000; i++)
    printf "E%06d,Person %d,person%d@corp.example,%s,%s\n", i, i, i, c[i % 5 + 1], l[i % n + 1]
}' >"$work/roster.csv"

./target/dist/examples/seed "$work/db" 10000
"$bin" --db "$work/db" people import 1 "$work/roster.csv" >/dev/null

hyperfine -N --warmup 3 --runs "$runs" \
  -n "deadlines (10,000 incidents)" "$bin --db $work/db deadlines" \
  -n "deadlines --json (10,000 incidents)" "$bin --db $work/db deadlines --json" \
  -n "deadlines 1 (100,000 people, 60 locations)" "$bin --db $work/db deadlines 1"
