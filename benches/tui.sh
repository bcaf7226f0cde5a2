#!/usr/bin/env bash
# Measures the terminal UI's targets in release: first frame <= 100 ms, and one key plus one
# frame <= 16 ms (median and worst) on the board and the People tab at 120x40, with 10,000
# incidents and one incident of 100,000 people; then the same key + frame target over a
# scripted session against a daemon that answers every call 200 ms late.
# Usage: benches/tui.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --profile dist --quiet --example seed --example tui_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./target/dist/examples/seed "$work/db" 10000 100000
for round in $(seq "$rounds"); do
  echo "round $round"
  ./target/dist/examples/tui_bench "$work/db"
done
for round in $(seq "$rounds"); do
  echo "slow daemon, round $round"
  ./target/dist/examples/tui_bench "$work/db" --slow-daemon 200
done
