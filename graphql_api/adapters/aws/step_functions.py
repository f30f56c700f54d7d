"""Starts the job state machine; the job id is the execution name, so a job starts once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


class StepFunctionsJobRunner:
    def __init__(self, state_machine_arn: str, client: Callable[[], Any]) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    async def start(self, job_id: str) -> None:
        try:
            await asyncio.to_thread(
                self._client().start_execution,
                stateMachineArn=self.state_machine_arn,
                name=job_id,
                input=json.dumps({"jobId": job_id}),
            )
        except ClientError as error:
            # A retried submit of the same job: the execution is already running or done.
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
