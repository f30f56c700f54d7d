"""Step Functions task handlers for batch jobs."""
