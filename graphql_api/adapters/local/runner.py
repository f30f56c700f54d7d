"""The embedded job runner: each job's steps as an asyncio task in the server process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class LocalJobRunner:
    """Runs `run(job_id)` once per job at a time; unfinished jobs resume on `resume()`.

    Jobs run one after another (`concurrency`, 1 by default) so a large job cannot starve
    the interactive `analyze` path of the event loop.
    """

    def __init__(self, concurrency: int = 1) -> None:
        self._run: Callable[[str], Awaitable[object]] | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(concurrency)

    def bind(self, run: Callable[[str], Awaitable[object]]) -> None:
        self._run = run

    async def start(self, job_id: str) -> None:
        if job_id in self._tasks or self._run is None:
            return
        task = asyncio.get_running_loop().create_task(self._guarded(job_id))
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _guarded(self, job_id: str) -> None:
        assert self._run is not None
        async with self._slots:
            try:
                await self._run(job_id)
            except Exception:
                logger.exception("job runner failed", extra={"job_id": job_id})

    async def wait(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def stop(self) -> None:
        """Cancel running jobs; they resume from their last finished part on the next start."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
