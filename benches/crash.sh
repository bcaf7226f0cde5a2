#!/usr/bin/env bash
# Kills a 10,000-letter send on 16 connections with SIGKILL at 20 evenly spaced points and
# counts the people who got a second copy per crash (target: at most one per connection),
# that nobody was missed and that every copy was identical. The SMTP server is the tests'
# own (real SMTP on loopback, recording every message).
# Usage: benches/crash.sh [LETTERS] [CRASHES] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --profile dist --quiet --bin breachdesk --example crash_bench
./target/dist/examples/crash_bench "$PWD/target/dist/breachdesk" "${1:-10000}" "${2:-20}" "${3:-16}"
