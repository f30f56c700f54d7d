#!/usr/bin/env bash
# The runbook's capacity planning analysis: 30 days of usage, growth, the bottlenecks and
# their projection three months ahead (the recommendations are the breaching rows).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

say "=== Capacity Planning Analysis ==="
"$AURASTREAM" ops capacity --days 30 --stack "$STACK" --region "$REGION" "$@"
say "=== Capacity Planning Complete ==="
