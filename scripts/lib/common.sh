# shellcheck shell=bash
# Shared by the runbook's scripts: strict mode, the stack, the region, the API's base URL.
#
#   AURASTREAM_STACK     stack name (default aurastream)
#   AWS_REGION           the stack's region (default us-east-1)
#   AURASTREAM_BASE_URL  the API's base URL, e.g. https://api.aurastream.com or
#                        http://127.0.0.1:8000; default: the stack's HealthUrl output
#   AURASTREAM           the CLI to run (default aurastream)
set -euo pipefail

STACK="${AURASTREAM_STACK:-aurastream}"
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
AURASTREAM="${AURASTREAM:-aurastream}"

say() { printf '%s\n' "$*"; }
fail() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# stack_output STACK REGION KEY: one output of a CloudFormation stack.
stack_output() {
  aws cloudformation describe-stacks --stack-name "$1" --region "$2" \
    --query "Stacks[0].Outputs[?OutputKey=='$3'].OutputValue" --output text
}

# base_url: AURASTREAM_BASE_URL, else the stack's HealthUrl without /v1/health.
base_url() {
  if [[ -n "${AURASTREAM_BASE_URL:-}" ]]; then
    printf '%s' "${AURASTREAM_BASE_URL%/}"
  else
    local health
    health="$(stack_output "$STACK" "$REGION" HealthUrl)"
    [[ -n "$health" && "$health" != "None" ]] || fail "no HealthUrl output on stack $STACK in $REGION"
    printf '%s' "${health%/v1/health}"
  fi
}

# check_health BASE_URL: print /v1/health and succeed when it answers 200 healthy or degraded.
check_health() {
  local url="$1/v1/health" body code
  body="$(mktemp)"
  code="$(curl -sS -o "$body" -w '%{http_code}' --max-time 15 "$url" || true)"
  if ! jq . "$body" 2>/dev/null; then
    say "(not JSON) $(head -c 300 "$body")"
  fi
  local status
  status="$(jq -r '.status // empty' "$body" 2>/dev/null || true)"
  rm -f "$body"
  say "GET $url -> HTTP $code, status ${status:-unknown}"
  [[ "$code" == 200 && ( "$status" == healthy || "$status" == degraded ) ]]
}

# wait_healthy BASE_URL [ATTEMPTS] [SECONDS]: bounded retries of check_health.
wait_healthy() {
  local attempts="${2:-10}" pause="${3:-15}" n
  for ((n = 1; n <= attempts; n++)); do
    if check_health "$1"; then return 0; fi
    ((n < attempts)) && sleep "$pause"
  done
  return 1
}
