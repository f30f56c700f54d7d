#!/usr/bin/env bash
# The runbook's performance test: 100 sync and 10 async analyses with X-API-Key, each one's
# status checked (sync 200, async 202) and its time kept; prints the status counts and the
# p50/p95/p99/max latency. Exit status 1 if any request got another status.
#
#   API_KEY              required: a key with the analyze and jobs scopes
#   AURASTREAM_BASE_URL  where to send them (default: the stack's URL; e.g. http://127.0.0.1:8000)
#   SYNC_REQUESTS=100 ASYNC_REQUESTS=10 CONCURRENCY=20
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

: "${API_KEY:?set API_KEY to an AuraStream API key}"
SYNC_REQUESTS="${SYNC_REQUESTS:-100}"
ASYNC_REQUESTS="${ASYNC_REQUESTS:-10}"
CONCURRENCY="${CONCURRENCY:-20}"
BASE_URL="$(base_url)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export API_KEY BASE_URL work

# one_request NAME ENDPOINT BODY: one POST; prints "NAME HTTP_CODE SECONDS", keeps the body.
# shellcheck disable=SC2317  # run by xargs through `bash -c`
one_request() {
  curl -sS --max-time 30 -o "$work/$1.body" -w "$1 %{http_code} %{time_total}\n" \
    -X POST "$BASE_URL$2" \
    -H "Content-Type: application/json" \
    -H "X-API-Key: $API_KEY" \
    -d "$3" 2>>"$work/curl.err" || printf '%s 000 0\n' "$1"
}
export -f one_request

# run_batch LABEL ENDPOINT COUNT EXPECTED BODY
run_batch() {
  local label="$1" endpoint="$2" count="$3" expected="$4" body="$5" results
  results="$work/$label.results"
  # shellcheck disable=SC2016  # expanded by the inner bash, from its arguments
  seq 1 "$count" | xargs -P "$CONCURRENCY" -I{} bash -c \
    'one_request "$0-$1" "$2" "$3"' "$label" {} "$endpoint" "$body" >"$results"
  say "   status codes: $(awk '{print $2}' "$results" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
  awk -v ok="$expected" '$2 == ok {print $3 * 1000}' "$results" | sort -n >"$results.ms"
  local good
  good="$(wc -l <"$results.ms")"
  if [[ "$good" -gt 0 ]]; then
    # nearest-rank percentiles of the sorted timings
    awk -v status="$expected" '{ v[NR] = $1 } END {
      printf "   %d x %s, ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n", NR, status,
        v[int((NR - 1) * 0.50) + 1], v[int((NR - 1) * 0.95) + 1], v[int((NR - 1) * 0.99) + 1], v[NR]
    }' "$results.ms"
  fi
  if [[ "$good" -ne "$count" ]]; then
    local first
    first="$(awk -v ok="$expected" '$2 != ok {print $1; exit}' "$results")"
    say "   $((count - good)) of $count requests did not answer $expected; the first one's body:"
    if [[ -s "$work/$first.body" ]]; then head -c 500 "$work/$first.body"; echo; fi
    if [[ -s "$work/curl.err" ]]; then sort -u "$work/curl.err" | head -3; fi
    return 1
  fi
  # A 2xx with a body that is not JSON is no success either.
  if ! jq -e 'type == "object"' "$work/$label-1.body" >/dev/null 2>&1; then
    say "   answered $expected but not a JSON object: $(head -c 300 "$work/$label-1.body")"
    return 1
  fi
}

say "=== AuraStream Performance Test ==="
say "Target: $BASE_URL"
failed=0
say "1. Testing Sync Endpoint ($SYNC_REQUESTS requests, $CONCURRENCY at a time):"
run_batch sync /v1/analyze/sync "$SYNC_REQUESTS" 200 \
  '{"text": "This is a test message for performance testing"}' || failed=1
say "2. Testing Async Endpoint ($ASYNC_REQUESTS requests):"
run_batch async /v1/analyze/async "$ASYNC_REQUESTS" 202 \
  '{"text": "This is a large document for async processing test"}' || failed=1
say "=== Performance Test $([[ $failed -eq 0 ]] && echo Complete || echo FAILED) ==="
exit "$failed"
