#!/usr/bin/env bash
# The runbook's complete service restart, for this deployment: turn the maintenance switch on
# (AURASTREAM_ENABLED=false, every other variable kept, published to the `live` alias), clear
# the result cache in bounded batches, switch back on, and check health until it passes.
#   CLEAR_BATCH=500 (keys scanned per page; deletes go 25 at a time)  CLEAR_LIMIT (optional)
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

clear_args=(--batch-size "${CLEAR_BATCH:-500}")
if [[ -n "${CLEAR_LIMIT:-}" ]]; then clear_args+=(--limit "$CLEAR_LIMIT"); fi

say "=== Emergency Service Restart ==="
say "1. Maintenance switch on (requests answer 503 meanwhile):"
"$AURASTREAM" ops disable --stack "$STACK" --region "$REGION"
# Whatever happens next, do not leave the service switched off by accident.
trap 'say "Restart interrupted: switching the service back on"; "$AURASTREAM" ops enable --stack "$STACK" --region "$REGION"' ERR
say "2. Clearing the result cache:"
"$AURASTREAM" ops clear-cache --stack "$STACK" --region "$REGION" "${clear_args[@]}"
say "3. Maintenance switch off:"
"$AURASTREAM" ops enable --stack "$STACK" --region "$REGION"
trap - ERR
say "4. Validating service:"
wait_healthy "$(base_url)" "${HEALTH_ATTEMPTS:-10}" "${HEALTH_PAUSE:-15}" || fail "service not healthy after restart"
say "=== Emergency Restart Complete ==="
