#!/usr/bin/env bash
# The runbook's morning check: the API's health, then error rates, latency, cache hit rate,
# cold starts, PII rate and yesterday's cost (vs its 14-day baseline) from CloudWatch and
# Cost Explorer. Extra arguments go to `aurastream ops daily-check` (e.g. --json).
# Exit status 1 when the API is unhealthy or a figure breaches the runbook's threshold.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

say "=== AuraStream Daily Health Check ==="
say "Date: $(date -u)"
say ""
say "1. API Health Check:"
healthy=0
check_health "$(base_url)" || healthy=1
say ""
say "2-4. Error rates, cache hit rate, cold starts, cost:"
checks=0
"$AURASTREAM" ops daily-check --stack "$STACK" --region "$REGION" "$@" || checks=$?
say "=== Health Check Complete ==="
exit $((healthy || checks))
