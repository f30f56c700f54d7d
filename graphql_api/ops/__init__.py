"""Operating a deployed AuraStream: the runbook's daily, weekly and monthly checks, the
maintenance switch, cache clearing and the DR drill, over CloudWatch, Cost Explorer, Lambda
and DynamoDB (`aurastream ops ...`)."""
