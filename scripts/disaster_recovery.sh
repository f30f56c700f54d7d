#!/usr/bin/env bash
# The runbook's disaster recovery, for this template: deploy (or refresh) the DR stack in the
# DR region, restore the keys and jobs tables from the newest backup copy into new tables and
# switch the DR stack's tables over to them, fail DNS over when a custom domain is set, and
# validate health in the DR region. The cache is not restored: it refills. Documents are in
# the DR bucket already (S3 replication). RTO 4 h, RPO 1 h (hourly backups).
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/dr.sh"

started=$(date +%s)
say "=== Disaster Recovery Procedure ($PRIMARY_REGION -> $DR_REGION) ==="
say "1. Assessing the primary stack:"
aws cloudformation describe-stacks --stack-name "$STACK" --region "$PRIMARY_REGION" \
  --query 'Stacks[0].[StackName,StackStatus,LastUpdatedTime]' --output text ||
  say "   primary stack unreachable in $PRIMARY_REGION"
say "2. Activating the DR region (sam build + deploy, config env dr):"
deploy_dr_stack
say "3. Restoring data:"
for table in "$(stack_output "$DR_STACK" "$DR_REGION" KeysTableName)" \
  "$(stack_output "$DR_STACK" "$DR_REGION" JobsTableName)"; do
  restore_and_switch "$table"
done
say "4. DNS:"
fail_over_dns
say "5. Validating the DR region:"
wait_healthy "$(dr_base_url)" "${HEALTH_ATTEMPTS:-10}" "${HEALTH_PAUSE:-15}" || fail "DR region not healthy"
say "=== Disaster Recovery Complete in $(( $(date +%s) - started )) s (RTO 4 h) ==="
