#!/usr/bin/env bash
# The runbook's API key compromise response, for keys kept in DynamoDB (an HTTP API has no
# API Gateway keys or usage plans): revoke the key, show its usage for 7 days and the
# failed key attempts of the last 24 hours, and the auth-failure alarm's state.
# Usage: security_incident_response.sh KEY_ID   (with or without the aura_ prefix)
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

KEY_ID="${1:-${COMPROMISED_API_KEY:-}}"
[[ -n "$KEY_ID" ]] || fail "usage: $0 KEY_ID (the key id, as \`aurastream keys list\` shows it)"
# The keys live in the stack's keys table; `aurastream keys` reads it with the AWS backend.
export AURASTREAM_BACKEND=aws
if [[ -z "${AURASTREAM_KEYS_TABLE:-}" ]]; then  # else the named table
  AURASTREAM_KEYS_TABLE="$(stack_output "$STACK" "$REGION" KeysTableName)"
  export AURASTREAM_KEYS_TABLE
fi
export AWS_REGION="$REGION"

say "=== Security Incident Response ==="
say "1. Revoking API key $KEY_ID (refused everywhere within the key cache TTL, 5 s):"
"$AURASTREAM" keys revoke "$KEY_ID"
say "2. The key's usage, last 7 days:"
"$AURASTREAM" keys usage "$KEY_ID" --days 7
say "3. Failed API key attempts, last 24 hours (AuraStream AuthFailures, by hour):"
aws cloudwatch get-metric-statistics --region "$REGION" \
  --namespace AuraStream --metric-name AuthFailures \
  --dimensions Name=service,Value=aurastream \
  --start-time "$(date -u -d '24 hours ago' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)" \
  --period 3600 --statistics Sum \
  --query 'sort_by(Datapoints, &Timestamp)[].[Timestamp,Sum]' --output table
say "4. The auth-failures alarm (over 100 failed attempts in 5 minutes):"
aws cloudwatch describe-alarms --region "$REGION" --alarm-names "$STACK-auth-failures" \
  --query 'MetricAlarms[].[AlarmName,StateValue,StateReason]' --output table
say "=== Security Response Complete ==="
