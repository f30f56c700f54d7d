# shellcheck shell=bash
# Shared by disaster_recovery.sh and emergency_failover.sh.
#
#   PRIMARY_REGION=us-east-1  DR_REGION=us-west-2  DR_STACK=aurastream-dr
#   BACKUP_VAULT=AuraStream-Backups
#   DOMAIN_NAME, PRIMARY_HEALTH_CHECK_ID: only with the optional custom domain
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PRIMARY_REGION="${PRIMARY_REGION:-$REGION}"
DR_REGION="${DR_REGION:-us-west-2}"
DR_STACK="${DR_STACK:-aurastream-dr}"
BACKUP_VAULT="${BACKUP_VAULT:-AuraStream-Backups}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# deploy_dr_stack: build and deploy the same template to the DR region (samconfig env `dr`).
deploy_dr_stack() {
  (cd "$REPO_ROOT" &&
    sam build --config-file infra/samconfig.toml --config-env dr &&
    sam deploy --config-file infra/samconfig.toml --config-env dr --no-confirm-changeset)
}

# latest_recovery_point TABLE: the newest completed copy of TABLE's backups in the DR vault.
latest_recovery_point() {
  local account source_arn
  account="$(aws sts get-caller-identity --query Account --output text)"
  source_arn="arn:aws:dynamodb:$PRIMARY_REGION:$account:table/$1"
  # shellcheck disable=SC2016  # JMESPath's literals are backticks, not a command
  aws backup list-recovery-points-by-backup-vault --region "$DR_REGION" \
    --backup-vault-name "$BACKUP_VAULT" --by-resource-arn "$source_arn" \
    --query 'sort_by(RecoveryPoints[?Status==`COMPLETED`], &CreationDate)[-1].[RecoveryPointArn,CreationDate]' \
    --output text
}

# restore_and_switch TABLE: restore the latest copy into TABLE-restored-<time> (a new table:
# restores never overwrite), then copy it into the DR stack's TABLE and verify every item.
restore_and_switch() {
  local table="$1" point created restored role job status
  read -r point created < <(latest_recovery_point "$table")
  [[ -n "$point" && "$point" != None ]] || fail "no recovery point of $table in $BACKUP_VAULT ($DR_REGION)"
  say "   $table: recovery point of $created (data after it is lost: the RPO window)"
  restored="$table-restored-$(date -u +%Y%m%dT%H%M%S)"
  role="$(stack_output "$DR_STACK" "$DR_REGION" BackupRestoreRoleArn)"
  job="$(aws backup start-restore-job --region "$DR_REGION" --recovery-point-arn "$point" \
    --iam-role-arn "$role" --resource-type DynamoDB \
    --metadata "TargetTableName=$restored" --query RestoreJobId --output text)"
  for _ in $(seq 1 240); do  # up to 2 hours, checked every 30 s
    status="$(aws backup describe-restore-job --region "$DR_REGION" --restore-job-id "$job" \
      --query Status --output text)"
    case "$status" in
      COMPLETED) break ;;
      ABORTED | FAILED) fail "restore job $job for $table: $status" ;;
    esac
    sleep 30
  done
  [[ "$status" == COMPLETED ]] || fail "restore job $job for $table still $status"
  "$AURASTREAM" ops copy-table --source-table "$restored" --target-table "$table" \
    --source-region "$DR_REGION" --target-region "$DR_REGION"
}

# fail_over_dns: with a custom domain, mark the primary's health check unhealthy (inverted)
# so Route 53 answers with the secondary record; without one there is no DNS to change.
fail_over_dns() {
  if [[ -z "${DOMAIN_NAME:-}" ]]; then
    say "   no DOMAIN_NAME: clients use the DR API's URL: $(stack_output "$DR_STACK" "$DR_REGION" ApiUrl)"
    return 0
  fi
  local check="${PRIMARY_HEALTH_CHECK_ID:-}"
  if [[ -z "$check" ]]; then
    check="$(stack_output "$STACK" "$PRIMARY_REGION" HealthCheckId 2>/dev/null || true)"
  fi
  [[ -n "$check" && "$check" != None ]] || fail "set PRIMARY_HEALTH_CHECK_ID (the primary region's Route 53 health check)"
  aws route53 update-health-check --health-check-id "$check" --inverted >/dev/null
  say "   primary health check $check inverted: $DOMAIN_NAME fails over to $DR_REGION"
}

dr_base_url() {
  local health
  health="$(stack_output "$DR_STACK" "$DR_REGION" HealthUrl)"
  printf '%s' "${health%/v1/health}"
}
