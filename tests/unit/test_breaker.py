import asyncio

import pytest

from graphql_api.adapters.resilience import (
    CLOSED,
    HALF_OPENED,
    OPENED,
    Breaker,
    CircuitOpen,
    Throttled,
)
from graphql_api.domain.deadline import BudgetSpent


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def fail(error: Exception) -> None:
    raise error


async def ok() -> str:
    return "ok"


async def trip(breaker: Breaker, times: int, error: Exception | None = None) -> None:
    for _ in range(times):
        with pytest.raises(type(error or ConnectionError())):
            await breaker.call(lambda: fail(error or ConnectionError("down")))


async def test_failures_and_timeouts_open_the_circuit():
    breaker = Breaker("engine", threshold=2, recovery_seconds=10, clock=Clock())
    await trip(breaker, 1, TimeoutError("slow"))
    await trip(breaker, 1, ConnectionError("reset"))

    assert breaker.state == OPENED
    with pytest.raises(CircuitOpen):
        await breaker.call(ok)


async def test_throttles_and_spent_budgets_never_open_it():
    breaker = Breaker("engine", threshold=2, recovery_seconds=10, clock=Clock())
    await trip(breaker, 5, Throttled("rate"))
    await trip(breaker, 5, BudgetSpent("spent"))

    assert breaker.state == CLOSED
    assert await breaker.call(ok) == "ok"


async def test_half_open_lets_exactly_one_probe_through():
    clock = Clock()
    breaker = Breaker("engine", threshold=1, recovery_seconds=10, clock=clock)
    await trip(breaker, 1)
    clock.now = 1  # read live: half-open as soon as the recovery time has passed
    assert breaker.state == HALF_OPENED
    release = asyncio.Event()

    async def probe() -> str:
        await release.wait()
        return "probe"

    first = asyncio.create_task(breaker.call(probe))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await breaker.call(ok)  # the probe is out: everyone else still falls back
    release.set()

    assert await first == "probe"
    assert breaker.state == CLOSED


async def test_each_failed_probe_doubles_the_wait_up_to_the_recovery_time():
    clock = Clock()
    breaker = Breaker("engine", 3, recovery_seconds=10, clock=clock, first_recovery_seconds=1)
    await trip(breaker, 3)
    waits = []
    for _ in range(5):
        opened_at = clock.now
        while breaker.state == OPENED:
            clock.now += 0.5
        waits.append(clock.now - opened_at)
        await trip(breaker, 1)  # the probe fails

    assert waits == [1, 2, 4, 8, 10]
    clock.now += 10
    assert await breaker.call(ok) == "ok"
    await trip(breaker, 3)
    clock.now += 1  # closed again: the next outage starts from the first wait
    assert breaker.state == HALF_OPENED


async def test_a_throttled_probe_leaves_the_circuit_half_open_for_the_next_caller():
    clock = Clock()
    breaker = Breaker("engine", threshold=1, recovery_seconds=10, clock=clock)
    await trip(breaker, 1)
    clock.now = 1
    await trip(breaker, 1, Throttled("rate"))

    assert breaker.state == HALF_OPENED
    assert await breaker.call(ok) == "ok"
    assert breaker.state == CLOSED


async def test_a_cache_whose_reads_work_still_trips_on_failing_writes():
    from graphql_api.adapters.resilience import GuardedCache
    from tests.fakes import RecordingCache, positive

    class WritesFail(RecordingCache):
        async def put_many(self, entries) -> None:  # type: ignore[no-untyped-def]
            raise OSError(28, "No space left on device")

    guarded = GuardedCache(WritesFail(), Breaker("reads", 2, 30), Breaker("writes", 2, 30))
    for _ in range(2):
        assert await guarded.get_many(["k"]) == {}  # a read succeeds in between
        with pytest.raises(OSError, match="No space"):
            await guarded.put_many({"k": (positive(), 60)})

    assert guarded.writes.state == OPENED
    assert guarded.reads.state == CLOSED
