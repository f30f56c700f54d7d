#!/usr/bin/env bash
# The runbook's weekly capacity review: Lambda concurrency and duration, DynamoDB consumed
# capacity, Comprehend calls against its quota and requests by day, projected three months
# ahead from the measured growth; then the week's cost by day. Extra arguments go to
# `aurastream ops capacity` (e.g. --days 60, --json).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

say "=== Weekly Capacity Review ==="
say "Week of: $(date -u +%F)"
say ""
say "1-2. Concurrency, duration, DynamoDB and Comprehend, projected 3 months ahead:"
capacity=0
"$AURASTREAM" ops capacity --stack "$STACK" --region "$REGION" "$@" || capacity=$?
say ""
say "3. Weekly Cost Trends (Cost Explorer, by day):"
aws ce get-cost-and-usage --region us-east-1 \
  --time-period "Start=$(date -u -d '7 days ago' +%F),End=$(date -u +%F)" \
  --granularity DAILY --metrics BlendedCost \
  --query 'ResultsByTime[].[TimePeriod.Start,Total.BlendedCost.Amount,Total.BlendedCost.Unit]' \
  --output table
say "=== Capacity Review Complete ==="
exit "$capacity"
