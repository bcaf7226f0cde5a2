#!/usr/bin/env bash
# Measures sending 100,000 personalised letters to a local SMTP sink (postfix's smtp-sink),
# against what postfix's own smtp-source reaches against the same sink in the same run, and
# the sending process's peak memory. Target: >= 0.5x smtp-source's rate, <= 200 MB.
# Installs postfix with apt-get when run as root (only its smtp-sink/smtp-source tools are
# used; the mail system itself is not started).
# Usage: benches/notify.sh [LETTERS]
set -euo pipefail
cd "$(dirname "$0")/.."
letters=${1:-100000}
port=2525

if ! command -v smtp-sink >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix
  else
    echo "postfix's smtp-sink is needed: sudo apt-get install postfix" >&2
    exit 2
  fi
fi
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)

cargo build --release --quiet --bin breachdesk
bin=$PWD/target/release/breachdesk
work=$(mktemp -d)
smtp-sink "${sink_user[@]}" 127.0.0.1:$port 256 >/dev/null 2>&1 &
sink=$!
trap 'kill $sink 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5

echo "== smtp-source -d -s 16 -m $letters (reference)"
start=$(date +%s.%N)
smtp-source -d -s 16 -m "$letters" -f bench@corp.example -t sink@corp.example 127.0.0.1:$port
end=$(date +%s.%N)
ref=$(awk -v n="$letters" -v a="$start" -v b="$end" 'BEGIN { print n / (b - a) }')
printf 'smtp-source: %.0f msg/s\n' "$ref"

cat > "$work/config.toml" <<CONF
[smtp]
host = "127.0.0.1"
port = $port
from = "Privacy Team <privacy@corp.example>"
connections = 16
CONF
db="$work/db"
export BREACHDESK_CONFIG="$work/config.toml"
awk -v n="$letters" 'BEGIN {
  print "employee_id,name,email,categories,location"
  split("keystrokes|mouse-movements;chat-messages|transcripts|performance-data;screenshots", c, "|")
  for (i = 0; i < n; i++) printf "E%06d,Person %d,person%d@corp.example,%s,DE\n", i, i, i, c[i % 4 + 1]
}' > "$work/roster.csv"
"$bin" --db "$db" incident open --title "Benchmark" --severity 2 >/dev/null
"$bin" --db "$db" people import 1 "$work/roster.csv"
before=$(du -sk "$db" | cut -f1)
echo "== queue (render $letters letters)"
/usr/bin/time -f "queue: %e s, peak RSS %M KB" "$bin" --db "$db" notify queue 1 --template initial
after=$(du -sk "$db" | cut -f1)
awk -v a="$before" -v b="$after" -v n="$letters" 'BEGIN { printf "database: %.0f MB before queuing, %.0f MB after: %.2f KB per letter\n", a / 1024, b / 1024, (b - a) / n }'
# Counting: the whole `notify status` process (open, read the tallies, print), best and
# median of 10 runs.
status_times() {
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    s0=$(date +%s%N); "$bin" --db "$db" notify status 1 >/dev/null; s1=$(date +%s%N)
    echo $(( (s1 - s0) / 1000000 ))
  done | sort -n | awk '{ t[NR] = $1 } END { printf "notify status over %s letters: best %d ms, median %d ms\n", n, t[1], t[int((NR + 1) / 2)] }' n="$letters"
}
status_times
echo "== breachdesk notify send"
start=$(date +%s.%N)
/usr/bin/time -f "send: %e s, peak RSS %M KB" "$bin" --db "$db" notify send 1
end=$(date +%s.%N)
ours=$(awk -v n="$letters" -v a="$start" -v b="$end" 'BEGIN { print n / (b - a) }')
printf 'breachdesk: %.0f msg/s = %.2fx smtp-source\n' "$ours" "$(awk -v x="$ours" -v y="$ref" 'BEGIN { print x / y }')"
status_times
