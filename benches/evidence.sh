#!/usr/bin/env bash
# Measures `evidence import` against a 100,000-person roster, in release, under
# /usr/bin/time (elapsed seconds and peak resident memory):
#   - 1,000,000 S3 server access log lines (<= 10 s, <= 300 MB)
#   - 1,000,000 CloudTrail records in 1,000 gzip files, read as a directory (<= 10 s, <= 300 MB)
#   - a 10,000,000-row CSV access log (<= 30 s; memory bounded: it must not grow with the
#     number of rows, the run at a tenth of the rows shows that)
# Usage: benches/evidence.sh [ROWS]   (ROWS of the CSV; the platform logs stay at 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
cargo build --profile dist --quiet --bin breachdesk --example tui_bench
bin=$PWD/target/dist/breachdesk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/config" XDG_DATA_HOME="$work/home/data"
awk 'BEGIN {
  print "employee_id,name,email,categories,location"
  for (i = 0; i < 100000; i++) printf "E%06d,Person %d,person%d@corp.example,keystrokes,DE\n", i, i, i
}' > "$work/roster.csv"
"$bin" --db "$work/db" incident open --title "Evidence benchmark" --severity 2 >/dev/null
"$bin" --db "$work/db" people import INC-1 "$work/roster.csv" >/dev/null
# Each platform log into an incident of its own, people found in the object key.
platform() { # label, incident id (the next to be opened), path, extra args...
  local label=$1 id=$2 path=$3
  shift 3
  "$bin" --db "$work/db" incident open --title "$label" --severity 2 >/dev/null
  "$bin" --db "$work/db" people import "$id" "$work/roster.csv" >/dev/null
  /usr/bin/time -f "$label: %e s, peak RSS %M KB" "$bin" --db "$work/db" evidence import "$id" "$path" \
    --person-from '/(?P<employee_id>E[0-9]{6})/' "$@" >/dev/null
}
awk 'BEGIN {
  srand(11)
  for (i = 0; i < 1000000; i++) {
    op = (i % 50 == 0 ? "REST.PUT.OBJECT" : (i % 97 == 0 ? "REST.COPY.OBJECT_GET" : "REST.GET.OBJECT"))
    st = (i % 113 == 0 ? "403 AccessDenied" : "200 -")
    printf "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be acme-monitoring [%02d/Nov/2026:%02d:%02d:%02d +0000] 192.0.2.%d arn:aws:iam::111122223333:user/u%d %016X %s monitoring/E%06d/keystrokes-%d.json \"GET /acme-monitoring/monitoring/E%06d/k.json HTTP/1.1\" %s 4096 4096 12 11 \"-\" \"aws-cli/2.15\" - host%d= SigV4 TLS_AES_128_GCM_SHA256 AuthHeader acme-monitoring.s3.us-east-1.amazonaws.com TLSv1.3 - -\n", 1 + i % 28, i % 24, i % 60, i % 59, i % 250, int(rand() * 500), i, op, int(rand() * 100000), i % 31, int(rand() * 100000), st, i
  }
}' > "$work/s3-access.log"
echo "== 1,000,000 S3 server access log lines ($(du -h "$work/s3-access.log" | cut -f1))"
platform "evidence import (S3 access log)" 2 "$work/s3-access.log"
mkdir -p "$work/trail"
awk -v dir="$work/trail" 'BEGIN {
  srand(13)
  for (f = 0; f < 1000; f++) {
    file = sprintf("%s/111122223333_CloudTrail_us-east-1_%04d.json", dir, f)
    printf "{\"Records\":[" > file
    for (r = 0; r < 1000; r++) {
      i = f * 1000 + r
      name = (i % 50 == 0 ? "PutObject" : (i % 97 == 0 ? "CopyObject" : "GetObject"))
      err = (i % 113 == 0 ? ",\"errorCode\":\"AccessDenied\"" : "")
      e = int(rand() * 100000)
      printf "%s{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"IAMUser\",\"principalId\":\"AIDA%06d\",\"arn\":\"arn:aws:iam::111122223333:user/u%d\",\"accountId\":\"111122223333\"},\"eventTime\":\"2026-11-%02dT%02d:%02d:%02dZ\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"192.0.2.%d\",\"userAgent\":\"aws-cli/2.15\",\"requestParameters\":{\"bucketName\":\"acme-monitoring\",\"key\":\"monitoring/E%06d/keystrokes.json\",\"x-amz-copy-source\":\"acme-monitoring/monitoring/E%06d/keystrokes.json\"},\"responseElements\":null%s,\"requestID\":\"%016X\",\"eventID\":\"%08x-0000-4000-8000-%012x\",\"readOnly\":true,\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::acme-monitoring/monitoring/E%06d/keystrokes.json\"}],\"eventType\":\"AwsApiCall\",\"managementEvent\":false,\"recipientAccountId\":\"111122223333\",\"eventCategory\":\"Data\"}", (r ? "," : ""), i, int(rand() * 500), 1 + i % 28, i % 24, i % 60, i % 59, name, i % 250, e, e, err, i, i, i, e > file
    }
    printf "]}\n" > file
    close(file)
  }
}'
gzip -q "$work"/trail/*.json
echo "== 1,000,000 CloudTrail records in 1,000 gzip files ($(du -sh "$work/trail" | cut -f1))"
platform "evidence import (CloudTrail, 1,000 files)" 3 "$work/trail"
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
target/dist/examples/tui_bench "$work/db" "$work/empty.toml" --during-evidence "$work/access.csv"
