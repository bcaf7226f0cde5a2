#!/usr/bin/env bash
# Measures team mode in release: what the daemon adds to small calls (target: <= 2 ms,
# median), and the TUI's key + frame through the daemon (target: <= 16 ms), on a database of
# 10,000 incidents and one incident of 100,000 people.
# Usage: benches/daemon.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cargo build --profile dist --quiet --bin breachdesk --example seed --example tui_bench --example daemon_bench
work=$(mktemp -d)
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_DATA_HOME="$work/home/data"
daemon=
cleanup() {
  if [[ -n "$daemon" ]]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
./target/dist/examples/seed "$work/db" 10000 100000
for round in $(seq "$rounds"); do
  echo "round $round: small calls, 2000 each"
  ./target/dist/examples/daemon_bench "$work/db" 2000
done
BREACHDESK_DB="$work/db" ./target/dist/breachdesk serve --socket "$work/sock" 2>/dev/null &
daemon=$!
while [[ ! -S "$work/sock" ]]; do sleep 0.05; done
for round in $(seq "$rounds"); do
  echo "round $round: TUI through the daemon"
  ./target/dist/examples/tui_bench --remote "$work/sock"
done
