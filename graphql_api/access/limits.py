"""Rate-limit arithmetic, shared by every store: the token bucket as GCRA, and UTC days.

A token bucket of `burst` tokens refilled at `rate` per second admits exactly the requests
that the generic cell rate algorithm (GCRA) admits with emission interval T = 1/rate and
tolerance tau = (burst - 1) * T. GCRA keeps one number per key, the theoretical arrival time
(TAT) of the next request, instead of (tokens, updated_at):

- a request at `now` is admitted when TAT <= now + tau, and then TAT becomes
  max(TAT, now) + T;
- a refused request may retry after TAT - tau - now seconds.

One number means DynamoDB can apply an admission as one atomic conditional update, with no
read first: `SET tat = tat + T` if now < TAT <= now + tau, or `SET tat = now + T` if
TAT <= now (or absent). Concurrent containers never overwrite each other's admissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

DAY_SECONDS = 86_400
#: Float slack so that a request exactly on the refill boundary is admitted.
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Admission:
    admitted: bool
    #: The bucket's TAT after this decision (unchanged when refused).
    tat: float
    #: 0 when admitted.
    retry_after_seconds: float


@dataclass(frozen=True, slots=True)
class QuotaOutcome:
    admitted: bool
    #: Documents counted for the day, including this request's when admitted.
    used: int


def interval(rate_per_second: float) -> float:
    return 1.0 / rate_per_second


def tolerance(rate_per_second: float, burst: int) -> float:
    return (burst - 1) / rate_per_second


def admit(tat: float | None, now: float, rate_per_second: float, burst: int) -> Admission:
    """Admit or refuse one request against a bucket whose TAT is `tat` (None: never used)."""
    current = now if tat is None else max(tat, now)
    wait = current - tolerance(rate_per_second, burst) - now
    if wait > EPSILON:
        return Admission(False, current, wait)  # refused only when TAT is ahead of now
    return Admission(True, current + interval(rate_per_second), 0.0)


def retry_after(tat: float, now: float, rate_per_second: float, burst: int) -> float:
    """Seconds until a bucket at `tat` admits a request; 0 if it does now."""
    wait = tat - tolerance(rate_per_second, burst) - now
    return wait if wait > EPSILON else 0.0


def bucket_expiry(now: float, rate_per_second: float, burst: int) -> float:
    """After this time the bucket is surely full again, so dropping its record changes nothing."""
    return now + tolerance(rate_per_second, burst) + interval(rate_per_second) + 3_600


def utc_day(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def seconds_until_next_day(now: float) -> float:
    """Seconds until the next UTC midnight, when daily quotas reset."""
    return DAY_SECONDS - (now % DAY_SECONDS)
