#!/usr/bin/env bash
# `make dr-drill`: the monthly DR test against moto_server in two regions, here, with no AWS
# account: seed the keys and jobs tables in us-east-1, back them up, write more (the data a
# restore loses), restore into new tables, switch us-west-2's tables over, verify every item.
#   DRILL_ITEMS=500 items per table, DRILL_LATE_WRITES=5; extra arguments go to `ops dr-drill`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${VENV_BIN:-$root/.venv/bin}"
port="$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null; wait "$moto" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null && break
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=drill AWS_SECRET_ACCESS_KEY=drill
unset AWS_PROFILE
"$bin/aurastream" ops dr-drill --primary-region us-east-1 --dr-region us-west-2 \
  --seed "${DRILL_ITEMS:-500}" --late-writes "${DRILL_LATE_WRITES:-5}" "$@"
