#!/usr/bin/env bash
# Measures sending 100,000 personalised letters to a local SMTP sink (postfix's smtp-sink),
# against what postfix's own smtp-source reaches against the same sink in the same run, and
# the sending process's peak memory; then the same against a real postfix smtpd on loopback
# (a throwaway instance with its own config and queue in a temp dir, delivering everything
# to the discard transport; the system's postfix configuration is not touched), where
# breachdesk is compared with smtp-source to that same smtpd. Targets: >= 0.8x smtp-source
# to smtp-sink, >= 0.9x smtp-source to postfix, send peak <= 150 MB.
# Installs postfix with apt-get when run as root; the postfix reference needs root (it is
# skipped, saying so, otherwise).
# Usage: benches/notify.sh [LETTERS]   (BENCH_CONNECTIONS=N: connections, default 16;
#        KEEP=1: keep the temp directories; PF_ROUNDS=N: N pairs against postfix)
set -euo pipefail
cd "$(dirname "$0")/.."
letters=${1:-100000}
port=2525

if ! command -v smtp-sink >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix
    # The package may start the system's instance; this script does not use it.
    postfix status >/dev/null 2>&1 && postfix stop >/dev/null 2>&1 || true
  else
    echo "postfix's smtp-sink is needed: sudo apt-get install postfix" >&2
    exit 2
  fi
fi
# Runs a command (its output to standard error) and prints the rate: $letters messages
# over the seconds it took.
rate_of() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >&2
  t1=$(date +%s.%N)
  awk -v n="$letters" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }'
}
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)

cargo build --profile dist --quiet --bin breachdesk
bin=$PWD/target/dist/breachdesk
work=$(mktemp -d)
smtp-sink "${sink_user[@]}" 127.0.0.1:$port 256 >/dev/null 2>&1 &
sink=$!
# The postfix instance's directory must be reachable by the postfix user, unlike $work.
pf=$(mktemp -d)
chmod 755 "$pf"
pf_conf="$pf/etc"
cleanup() {
  kill $sink 2>/dev/null
  if [ -f "$pf_conf/main.cf" ]; then postfix -c "$pf_conf" stop >/dev/null 2>&1 || true; fi
  [ -n "${KEEP:-}" ] || rm -rf "$work" "$pf"
}
trap cleanup EXIT
sleep 0.5

echo "== smtp-source -d -s 16 -m $letters (reference)"
ref=$(rate_of smtp-source -d -s 16 -m "$letters" -f bench@corp.example -t sink@corp.example 127.0.0.1:$port)
printf 'smtp-source: %.0f msg/s\n' "$ref"

cat > "$work/config.toml" <<CONF
[smtp]
host = "127.0.0.1"
port = $port
from = "Privacy Team <privacy@corp.example>"
connections = ${BENCH_CONNECTIONS:-16}
[contact]
name = "Privacy Team"
email = "privacy@corp.example"
dpo = "Dana Ortiz, dpo@corp.example"
[audit]
witness = "$work/witness"
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
ours=$(rate_of /usr/bin/time -f "send: %e s, peak RSS %M KB" "$bin" --db "$db" notify send 1)
printf 'breachdesk: %.0f msg/s = %.2fx smtp-source\n' "$ours" "$(awk -v x="$ours" -v y="$ref" 'BEGIN { print x / y }')"
status_times

# A real postfix smtpd on loopback: every letter is received, queued (fsync'd, as a relay
# does) and handed to the discard transport.
if [ "$(id -u)" != 0 ]; then
  echo "== postfix smtpd reference skipped: it needs root to start a postfix instance"
  exit 0
fi
pf_port=2526
mkdir -p -m 755 "$pf_conf" "$pf/spool"
cat > "$pf_conf/main.cf" <<PF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
meta_directory = $(postconf -d -h meta_directory)
daemon_directory = $(postconf -d -h daemon_directory)
command_directory = $(postconf -d -h command_directory)
shlib_directory = $(postconf -d -h shlib_directory)
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
myhostname = relay.corp.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = discard:benchmark
local_transport = discard:benchmark
relay_transport = discard:benchmark
default_process_limit = 64
PF
cat > "$pf_conf/master.cf" <<PF
127.0.0.1:$pf_port inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
PF
postfix -c "$pf_conf" check || { cat "$pf/maillog" 2>/dev/null; exit 1; }
postfix -c "$pf_conf" start >/dev/null 2>&1 || { cat "$pf/maillog" 2>/dev/null; exit 1; }
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$pf_port) 2>/dev/null && break
  sleep 0.1
done
# Each run starts on an empty postfix queue, so that none pays for discarding another's mail.
drained() {
  while [ -n "$(find "$pf/spool/incoming" "$pf/spool/active" "$pf/spool/deferred" -type f 2>/dev/null | head -1)" ]; do
    sleep 0.2
  done
}
drained
echo "== smtp-source -d -s 16 -m $letters to postfix $(postconf -d -h mail_version) smtpd (reference)"
pf_ref=$(rate_of smtp-source -d -s 16 -m "$letters" -f bench@corp.example -t staff@corp.example 127.0.0.1:$pf_port)
printf 'smtp-source to postfix: %.0f msg/s\n' "$pf_ref"
# The same with messages the size of a letter (smtp-source's own are a few hundred bytes,
# and postfix writes and syncs every byte it accepts).
letter_bytes=$("$bin" --db "$db" notify preview 1 --template initial | wc -c)
drained
pf_ref_sized=$(rate_of smtp-source -d -s 16 -m "$letters" -l "$letter_bytes" -f bench@corp.example -t staff@corp.example 127.0.0.1:$pf_port)
printf 'smtp-source to postfix, %d-byte messages: %.0f msg/s\n' "$letter_bytes" "$pf_ref_sized"
sed "s/^port = .*/port = $pf_port/" "$work/config.toml" > "$work/postfix.toml"
pf_db="$work/db-postfix"
export BREACHDESK_CONFIG="$work/postfix.toml"
"$bin" --db "$pf_db" incident open --title "Benchmark" --severity 2 >/dev/null
"$bin" --db "$pf_db" people import 1 "$work/roster.csv" >/dev/null
"$bin" --db "$pf_db" notify queue 1 --template initial >/dev/null
drained
echo "== breachdesk notify send to postfix smtpd"
pf_ours=$(rate_of /usr/bin/time -f "send: %e s, peak RSS %M KB, CPU %U s user + %S s system" "$bin" --db "$pf_db" notify send 1)
printf 'breachdesk to postfix: %.0f msg/s = %.2fx smtp-source (%.2fx with letter-sized messages)\n' "$pf_ours" \
  "$(awk -v x="$pf_ours" -v y="$pf_ref" 'BEGIN { print x / y }')" \
  "$(awk -v x="$pf_ours" -v y="$pf_ref_sized" 'BEGIN { print x / y }')"
# PF_ROUNDS=N (default 1): N-1 more pairs, each a send of freshly queued letters followed by
# smtp-source with letter-sized messages. postfix's rate follows the disk, which on a shared
# machine moves by 10% between runs minutes apart, so pairs run back to back say more than
# one run does.
for round in $(seq 2 "${PF_ROUNDS:-1}"); do
  round_db="$work/db-postfix-$round"
  "$bin" --db "$round_db" incident open --title "Benchmark" --severity 2 >/dev/null
  "$bin" --db "$round_db" people import 1 "$work/roster.csv" >/dev/null
  "$bin" --db "$round_db" notify queue 1 --template initial >/dev/null
  drained
  round_ours=$(rate_of "$bin" --db "$round_db" notify send 1)
  drained
  round_ref=$(rate_of smtp-source -d -s 16 -m "$letters" -l "$letter_bytes" -f bench@corp.example -t staff@corp.example 127.0.0.1:$pf_port)
  printf 'round %d: breachdesk to postfix %.0f msg/s, smtp-source %.0f msg/s (%d-byte messages) = %.2fx\n' \
    "$round" "$round_ours" "$round_ref" "$letter_bytes" "$(awk -v x="$round_ours" -v y="$round_ref" 'BEGIN { print x / y }')"
done
