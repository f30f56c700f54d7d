"""One deadline per request for all engine work, carried in a context variable.

Language detection and sentiment run as separate engine calls, possibly in several tasks;
the deadline set around them is what every call, retry and timeout counts down from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class BudgetSpent(TimeoutError):
    """The request's engine budget ran out before a call could be sent (nothing was sent)."""


@dataclass(frozen=True, slots=True)
class Deadline:
    expires_at: float  # time.monotonic()

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.expires_at


_current: ContextVar[Deadline | None] = ContextVar("aurastream_engine_deadline", default=None)


def current_deadline() -> Deadline | None:
    return _current.get()


@contextmanager
def engine_deadline(seconds: float | None) -> Iterator[Deadline | None]:
    """Engine calls inside share one deadline `seconds` from now; an enclosing, earlier
    deadline wins. `None` sets none (each engine then applies its own per-call budget)."""
    outer = _current.get()
    if seconds is None:
        yield outer
        return
    mine = Deadline.after(seconds)
    chosen = outer if outer is not None and outer.expires_at <= mine.expires_at else mine
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)
