#!/usr/bin/env bash
# Measures breachdesk on PostgreSQL (issue 15's targets), in release, on a throwaway
# PostgreSQL cluster this script starts in a temp directory (its own port on loopback,
# default settings: every commit synced), and postfix's smtp-sink:
#   - importing a 100,000-row roster                          (target <= 2 s)
#   - `incident list --json` over 10,000 incidents            (target <= 150 ms)
#   - the TUI's first frame through a daemon on PostgreSQL    (target <= 150 ms)
#   - sending 100,000 letters vs `smtp-source -d -s 16`       (target >= 0.6x)
# Installs postgresql, postfix and hyperfine with apt-get when run as root and missing.
# Usage: benches/postgres.sh [LETTERS]   (KEEP=1 keeps the temp directory; BENCH_CONNECTIONS=N
#        mail connections, default 32 as docs/deploy.md recommends on PostgreSQL; PARTS="import
#        list tui send" chooses what to measure)
set -euo pipefail
cd "$(dirname "$0")/.."
letters=${1:-100000}
pg_port=55432
sink_port=2527

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v smtp-sink >/dev/null || need+=(postfix)
command -v hyperfine >/dev/null || need+=(hyperfine)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "needed: sudo apt-get install ${need[*]}" >&2
    exit 2
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  postfix status >/dev/null 2>&1 && postfix stop >/dev/null 2>&1 || true
fi
pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")

cargo build --profile dist --quiet --bin breachdesk --example seed --example tui_bench
bin=$PWD/target/dist/breachdesk
work=$(mktemp -d)
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres: "$work/pg"
sink=
cleanup() {
  [ -n "$sink" ] && kill "$sink" 2>/dev/null
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -A trust -U breachdesk -E UTF8 >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -w -l "$work/pg/log" \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start >/dev/null
psql_() { psql -q -h 127.0.0.1 -p "$pg_port" -U breachdesk -d postgres "$@"; }
url() { echo "postgres://breachdesk@127.0.0.1:$pg_port/$1"; }
fresh() {
  psql_ -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  "$bin" --db "$(url "$1")" db migrate >/dev/null
}
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

export HOME="$work/home" XDG_DATA_HOME="$work/home/data" XDG_CONFIG_HOME="$work/home/config"
export BREACHDESK_KEY
BREACHDESK_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
cat > "$work/config.toml" <<CONF
[smtp]
host = "127.0.0.1"
port = $sink_port
from = "Privacy Team <privacy@corp.example>"
connections = ${BENCH_CONNECTIONS:-32}
[contact]
name = "Privacy Team"
email = "privacy@corp.example"
dpo = "Dana Ortiz, dpo@corp.example"
[audit]
witness = "$work/witness"
CONF
export BREACHDESK_CONFIG="$work/config.toml"

awk -v n="$letters" 'BEGIN {
  print "employee_id,name,email,categories,location"
  split("keystrokes|mouse-movements;chat-messages|transcripts|performance-data;screenshots", c, "|")
  for (i = 0; i < n; i++) printf "E%06d,Person %d,person%d@corp.example,%s,DE\n", i, i, i, c[i % 4 + 1]
}' > "$work/roster.csv"

parts=${PARTS:-import list tui send}
part() { [[ " $parts " == *" $1 "* ]]; }

if part import; then
echo "== import a $letters-row roster"
hyperfine --warmup 1 --runs 5 \
  --prepare "psql -q -h 127.0.0.1 -p $pg_port -U breachdesk -d postgres -c 'DROP DATABASE IF EXISTS imp' -c 'CREATE DATABASE imp' && $bin --db $(url imp) db migrate >/dev/null && $bin --db $(url imp) incident open --title bench --severity 2 >/dev/null" \
  -n "import roster" "$bin --db $(url imp) people import 1 $work/roster.csv"

fi

if part list || part tui; then
echo "== incident list --json over 10,000 incidents (seeded in sled, moved in with db copy)"
./target/dist/examples/seed "$work/many" 10000 >/dev/null
psql_ -c "DROP DATABASE IF EXISTS many" -c "CREATE DATABASE many"
"$bin" db copy --from "$work/many" --to "$(url many)"
hyperfine --warmup 2 --runs 20 -n "incident list --json" "$bin --db $(url many) incident list --json"

echo "== TUI first frame through a daemon on PostgreSQL (10,000 incidents)"
"$bin" --db "$(url many)" serve --socket "$work/sock" 2>/dev/null &
daemon=$!
for _ in $(seq 1 100); do [ -S "$work/sock" ] && break; sleep 0.05; done
./target/dist/examples/tui_bench --remote "$work/sock" | grep -i 'first frame' || true
kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=
fi

part send || exit 0

echo "== send $letters letters (queued on PostgreSQL) against smtp-sink"
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
smtp-sink "${sink_user[@]}" 127.0.0.1:$sink_port 256 >/dev/null 2>&1 &
sink=$!
sleep 0.5
t0=$(date +%s.%N)
smtp-source -d -s 16 -m "$letters" -f bench@corp.example -t sink@corp.example 127.0.0.1:$sink_port
t1=$(date +%s.%N)
ref=$(awk -v n="$letters" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')
printf 'smtp-source: %.0f msg/s\n' "$ref"
fresh send
"$bin" --db "$(url send)" incident open --title "Benchmark" --severity 2 >/dev/null
"$bin" --db "$(url send)" people import 1 "$work/roster.csv" >/dev/null
/usr/bin/time -f "queue: %e s, peak RSS %M KB" "$bin" --db "$(url send)" notify queue 1 --template initial
t0=$(date +%s.%N)
/usr/bin/time -f "send: %e s, peak RSS %M KB, CPU %U s user + %S s system" "$bin" --db "$(url send)" notify send 1
t1=$(date +%s.%N)
ours=$(awk -v n="$letters" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')
printf 'breachdesk on PostgreSQL: %.0f msg/s = %.2fx smtp-source\n' "$ours" \
  "$(awk -v x="$ours" -v y="$ref" 'BEGIN { print x / y }')"
