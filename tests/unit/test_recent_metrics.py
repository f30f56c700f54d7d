import itertools
import json
import threading

import pytest

from graphql_api.adapters.recent_metrics import RecentMetrics

#: A whole minute: 2024-01-01T00:00:00Z.
START = 1_704_067_200.0
SERIES = (
    "requests_per_minute",
    "latency_p50_ms",
    "latency_p99_ms",
    "cache_hit_rate",
    "engine_fallbacks",
    "engine_errors",
    "jobs_submitted",
    "jobs_succeeded",
    "jobs_failed",
)


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recent(clock: FakeClock) -> RecentMetrics:
    return RecentMetrics(clock, seed=7)


def request(recent: RecentMetrics, milliseconds: float, operation: str = "analyze") -> None:
    recent.observe_ms("RequestLatency", milliseconds, {"operation": operation})


def test_an_empty_hour_has_sixty_points_of_zeros_and_nulls(recent):
    snapshot = recent.snapshot()

    assert snapshot["minutes"] == 60
    for name in SERIES:
        assert len(snapshot[name]) == 60, name
    assert snapshot["requests_per_minute"] == [0] * 60
    assert snapshot["latency_p50_ms"] == [None] * 60
    assert snapshot["cache_hit_rate"] == [None] * 60
    assert snapshot["jobs_failed"] == [0] * 60
    assert snapshot["totals"]["requests"] == 0
    assert snapshot["totals"]["latency_p99_ms"] is None
    assert snapshot["totals"]["cache_hit_rate"] is None
    json.dumps(snapshot, allow_nan=False)  # JSON-ready


def test_minute_epochs_start_each_bucket_oldest_first(recent, clock):
    clock.advance(90)  # half-way through the second minute

    epochs = recent.snapshot()["minute_epochs"]

    assert epochs[-1] == START + 60
    assert epochs[0] == START + 60 - 59 * 60
    assert all(later - earlier == 60 for earlier, later in itertools.pairwise(epochs))


def test_observations_land_in_the_bucket_of_their_minute(recent, clock):
    request(recent, 10)
    request(recent, 20, operation="health")  # every operation counts
    clock.advance(59.9)
    request(recent, 30)
    clock.advance(0.1)  # the next minute
    request(recent, 40)
    clock.advance(120)  # two minutes later, nothing in between

    series = recent.snapshot()["requests_per_minute"]

    assert series[-4:] == [3, 1, 0, 0]
    assert sum(series) == 4


def test_counters_feed_their_series_and_other_names_are_ignored(recent, clock):
    recent.increment("EngineFallback", 3)
    recent.increment("EngineErrors")
    recent.increment("JobsSubmitted")
    recent.increment("JobsSubmitted")
    recent.increment("JobsSucceeded")
    recent.increment("JobsFailed")
    recent.increment("RateLimited", 5)
    recent.observe_ms("EngineLatency", 12.0)  # not a request
    clock.advance(60)
    recent.increment("EngineFallback", 2)

    snapshot = recent.snapshot()

    assert snapshot["engine_fallbacks"][-2:] == [3, 2]
    assert snapshot["engine_errors"][-2:] == [1, 0]
    assert snapshot["jobs_submitted"][-2:] == [2, 0]
    assert snapshot["jobs_succeeded"][-2] == 1
    assert snapshot["jobs_failed"][-2] == 1
    assert snapshot["requests_per_minute"] == [0] * 60
    assert "RateLimited" not in json.dumps(snapshot)
    totals = snapshot["totals"]
    assert (totals["engine_fallbacks"], totals["engine_errors"]) == (5, 1)
    assert (totals["jobs_submitted"], totals["jobs_succeeded"], totals["jobs_failed"]) == (2, 1, 1)


def test_percentiles_per_minute_and_for_the_hour(recent, clock):
    for milliseconds in range(1, 101):  # 1..100 ms
        request(recent, milliseconds)
    clock.advance(60)
    request(recent, 500)

    snapshot = recent.snapshot()

    assert snapshot["latency_p50_ms"][-2:] == [50, 500]
    assert snapshot["latency_p99_ms"][-2:] == [99, 500]
    assert snapshot["latency_p50_ms"][:-2] == [None] * 58
    assert snapshot["totals"]["requests"] == 101
    assert snapshot["totals"]["latency_p50_ms"] == 51
    assert snapshot["totals"]["latency_p99_ms"] == 100


def test_cache_hit_rate_is_a_ratio_or_null_without_lookups(recent, clock):
    recent.increment("CacheHit", 3)
    recent.increment("CacheMiss", 1)
    clock.advance(60)
    recent.increment("CacheMiss", 2)
    clock.advance(60)
    recent.increment("CacheHit", 0)  # a batch with nothing to look up

    snapshot = recent.snapshot()

    assert snapshot["cache_hit_rate"][-3:] == [0.75, 0.0, None]
    totals = snapshot["totals"]
    assert (totals["cache_hits"], totals["cache_misses"]) == (3, 3)
    assert totals["cache_hit_rate"] == 0.5


def test_an_hour_later_the_old_buckets_are_gone(recent, clock):
    request(recent, 5)
    recent.increment("CacheHit")
    clock.advance(59 * 60)  # still inside the hour: the first minute is the oldest point

    assert recent.snapshot()["requests_per_minute"][0] == 1

    clock.advance(60)  # the first minute has left the hour
    snapshot = recent.snapshot()
    assert snapshot["requests_per_minute"] == [0] * 60
    assert snapshot["totals"]["cache_hits"] == 0

    request(recent, 7)  # reuses the ring slot of the first minute, emptied first
    snapshot = recent.snapshot()
    assert snapshot["requests_per_minute"][-1] == 1
    assert snapshot["latency_p50_ms"][-1] == 7
    assert snapshot["totals"]["requests"] == 1


def test_a_long_idle_gap_shows_an_empty_hour(recent, clock):
    for _ in range(10):
        request(recent, 3)
        clock.advance(60)
    clock.advance(5 * 3600)

    assert recent.snapshot()["totals"]["requests"] == 0


def test_a_clock_going_back_never_overwrites_a_newer_minute(recent, clock):
    clock.advance(3600)
    request(recent, 1)
    clock.advance(-3600)  # the same ring slot, an hour earlier
    request(recent, 2)
    clock.advance(3600)

    snapshot = recent.snapshot()
    assert snapshot["requests_per_minute"][-1] == 1
    assert snapshot["latency_p50_ms"][-1] == 1


def test_latency_samples_are_bounded_but_every_request_counts(clock):
    recent = RecentMetrics(clock, max_samples=100, seed=1)
    for index in range(10_000):
        request(recent, float(index % 100))

    (bucket,) = [b for b in recent._ring if b is not None]
    assert len(bucket.latencies) == 100
    snapshot = recent.snapshot()
    assert snapshot["requests_per_minute"][-1] == 10_000
    # A uniform sample of 0..99 repeated: its median is near 50.
    assert 30 <= snapshot["latency_p50_ms"][-1] <= 70


def test_the_hour_weighs_each_minute_by_its_requests_not_its_samples(clock):
    recent = RecentMetrics(clock, max_samples=10, seed=3)
    for _ in range(1_000):  # a busy minute, all fast
        request(recent, 1)
    for _ in range(2):  # two quiet minutes, all slow
        clock.advance(60)
        for _ in range(10):
            request(recent, 900)

    totals = recent.snapshot()["totals"]

    assert totals["requests"] == 1_020
    # 10 fast and 20 slow samples kept, but 1,000 fast requests and 20 slow ones served.
    assert totals["latency_p50_ms"] == 1
    assert totals["latency_p99_ms"] == 900


def test_non_finite_latencies_are_dropped(recent):
    request(recent, float("nan"))
    request(recent, float("inf"))

    assert recent.snapshot()["requests_per_minute"][-1] == 0


def test_concurrent_writers_lose_nothing(recent):
    def write() -> None:
        for _ in range(2_000):
            request(recent, 1)
            recent.increment("CacheHit")

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    totals = recent.snapshot()["totals"]
    assert totals["requests"] == 16_000
    assert totals["cache_hits"] == 16_000


def test_at_least_one_sample_is_required(clock):
    with pytest.raises(ValueError, match="max_samples"):
        RecentMetrics(clock, max_samples=0)
