#!/usr/bin/env bash
# The runbook's monthly cost review: cost by service, cost per analysis (Cost Explorer over
# DocumentsAnalyzed, and the estimated Comprehend share), SyncHandler's mean duration.
# Usage: monthly_cost_review.sh [YYYY-MM] [ops options]   (default: last month)
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

month="$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m)"
if [[ $# -gt 0 && "$1" =~ ^[0-9]{4}-[0-9]{2}$ ]]; then
  month="$1"
  shift
fi
say "=== Monthly Cost Optimization Review ==="
say "Month: $month"
"$AURASTREAM" ops cost --month "$month" --stack "$STACK" --region "$REGION" "$@"
say "=== Cost Review Complete ==="
