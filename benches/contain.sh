#!/usr/bin/env bash
# From launch to contained, as a responder would do it in the terminal UI (issue 14, item 4).
#
# On a fresh database with one programme registered (its pause hook a real command), a
# roster of N people in a file and SMTP pointing at postfix's smtp-sink, this drives the
# real binary in tmux: log a SEV 2 incident linked to the programme, import the roster, open
# the contain checklist and confirm it. It counts the keys pressed besides typed text and
# the wall time until the letters are sending, then waits for the send to finish and checks
# that the programme is paused and every letter arrived.
#
# Usage: benches/contain.sh [N]   (default 10000; needs tmux and smtp-sink: apt-get install
# tmux postfix)
set -euo pipefail

N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for tool in tmux smtp-sink; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install tmux postfix)"; exit 2; }
done
cargo build --profile dist --quiet --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/dist/breachdesk"

WORK=$(mktemp -d)
SESSION="breachdesk-contain-$$"
cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)
smtp-sink "${SINK_USER[@]}" "127.0.0.1:$PORT" 256 >"$WORK/sink.log" 2>&1 &
SINK=$!

export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/config" XDG_DATA_HOME="$WORK/home/data"
export BREACHDESK_DB="$WORK/db" BREACHDESK_CONFIG="$WORK/config.toml" NO_COLOR=1
mkdir -p "$HOME"
cat >"$BREACHDESK_CONFIG" <<EOF
[smtp]
host = "127.0.0.1"
port = $PORT
from = "Privacy Team <privacy@corp.example>"
connections = 16
[contact]
name = "Privacy Team"
email = "privacy@corp.example"
dpo = "Dana Ortiz, dpo@corp.example"
toll_free = "+1 800 555 0100"
postal_address = "1 Example Way, Springfield"
web = "https://corp.example/privacy"
EOF
"$BIN" program add staff-monitoring --name "Staff activity monitoring" \
    --pause-hook "touch $WORK/paused" >/dev/null
python3 - "$N" >"$WORK/roster.csv" <<'EOF'
import sys
n = int(sys.argv[1])
print("employee_id,name,email,categories,location")
places = ["DE", "US-CA", "NZ", "FR", "US-TX"]
for i in range(n):
    print(f"E{i:06},Person {i},person{i}@corp.example,keystrokes;chat-messages,{places[i % 5]}")
EOF

KEYS=0
key() { tmux send-keys -t "$SESSION" "$@"; KEYS=$((KEYS + $#)); }
type_text() { tmux send-keys -t "$SESSION" -l "$1"; }
wait_for() {
    local what=$1 limit=${2:-30} start=$SECONDS
    until tmux capture-pane -p -t "$SESSION" | grep -q -- "$what"; do
        if (( SECONDS - start > limit )); then
            echo "timed out waiting for: $what"; tmux capture-pane -p -t "$SESSION"; exit 1
        fi
        sleep 0.05
    done
}

T0=$(date +%s.%N)
tmux new-session -d -s "$SESSION" -x 120 -y 40 \
    "env HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_DATA_HOME=$XDG_DATA_HOME BREACHDESK_DB=$BREACHDESK_DB BREACHDESK_CONFIG=$BREACHDESK_CONFIG NO_COLOR=1 $BIN"
# The board has been read (and the mail server answered the start-up test).
wait_for "No incidents yet"
# Log the incident: title typed, SEV 2 is the default, tick the programme, Enter.
key n
type_text "Monitoring data readable company-wide"
key Tab Tab Tab Tab Space Enter
wait_for "INC-1 SEV2"
# Import the roster.
key i
type_text "$WORK/roster.csv"
key Enter
wait_for "$N rows" 60
# Contain: the checklist, one confirmation.
key K
wait_for "Contain the incident"
key Enter
wait_for "sending the letters" 60
T1=$(date +%s.%N)
wait_for "contained: what each step did" 300
T2=$(date +%s.%N)
tmux capture-pane -p -t "$SESSION" >"$WORK/final.txt"

[ -e "$WORK/paused" ] || { echo "the pause hook did not run"; cat "$WORK/final.txt"; exit 1; }
SENT=$(grep -o "sent [0-9]* letters" "$WORK/final.txt" | head -1)
printf 'keys besides typed text: %d\n' "$KEYS"
printf 'launch to %d letters sending: %.1f s\n' "$N" "$(echo "$T1 - $T0" | bc)"
printf 'until the send ended (%s): %.1f s\n' "$SENT" "$(echo "$T2 - $T0" | bc)"
grep "✓\|✗" "$WORK/final.txt" | sed 's/^[│ ]*//; s/[│ ]*$//'
