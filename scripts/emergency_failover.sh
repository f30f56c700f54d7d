#!/usr/bin/env bash
# The runbook's emergency failover: traffic first, data next. Fail DNS over (custom domain
# only), make sure the DR stack is deployed, restore the keys and jobs tables there, validate.
# While the tables restore, the DR region answers with its own (possibly empty) keys table.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/dr.sh"

say "=== Emergency Failover to DR Region ($DR_REGION) ==="
say "1. Failing DNS over:"
fail_over_dns
say "2. Activating DR resources:"
deploy_dr_stack
say "3. Restoring data:"
for table in "$(stack_output "$DR_STACK" "$DR_REGION" KeysTableName)" \
  "$(stack_output "$DR_STACK" "$DR_REGION" JobsTableName)"; do
  restore_and_switch "$table"
done
say "4. Validating DR environment:"
wait_healthy "${DR_BASE_URL:-$(dr_base_url)}" "${HEALTH_ATTEMPTS:-10}" "${HEALTH_PAUSE:-15}" || fail "DR region not healthy"
say "=== Emergency Failover Complete ==="
