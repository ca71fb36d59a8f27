"""When the transport tries a request again, and how long it waits first (a helper of
:mod:`ocireg.transport`; regclient's per-host backoff is the model).

Exponential backoff (``backoff * 2**(n-1)``, at most ``max_backoff``), or the server's
``Retry-After`` when it gives one, but never a single wait longer than ``max_retry_wait``
(60 s by default) nor more than ``retry_budget`` (120 s) of sleeping in one call, nor past the
call's deadline. When a wait is refused, :meth:`RetryPolicy.refusal` says why, and the error
raised for the response says so (with the wait the server asked for in
:attr:`~ocireg.errors.TooManyRequestsError.retry_after`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .limits import RateGuard

__all__ = ["RetryPolicy"]


@dataclass
class RetryPolicy:
    max_retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    #: the longest single wait a ``Retry-After`` may ask for, in seconds
    max_retry_wait: float = 60.0
    #: the most one call sleeps between its attempts, in seconds
    retry_budget: float = 120.0

    def delay(self, failures: int, retry_after: float | None) -> float:
        """The wait before attempt ``failures + 1``."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return float(min(self.max_backoff, self.backoff * (2 ** (failures - 1))))

    def refusal(
        self, asked: float | None, delay: float, waited: float, guard: RateGuard | None = None
    ) -> str | None:
        """Why waiting ``delay`` more seconds (after ``waited``) is not done, or None."""
        if asked is not None and asked > self.max_retry_wait:
            return (
                f"(the registry asked to wait {asked:.0f} s, more than the"
                f" {self.max_retry_wait:.0f} s ocireg waits at once)"
            )
        if waited + delay > self.retry_budget:
            return f"(retries stopped: the {self.retry_budget:.0f} s retry budget is spent)"
        left = guard.remaining() if guard is not None else None
        if left is not None and delay >= left:
            return f"(retries stopped: the {guard.deadline if guard else 0:g} s deadline is near)"
        return None
