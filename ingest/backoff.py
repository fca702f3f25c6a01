"""Exponential backoff with jitter, honouring a server's own hint."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``base * 2**attempt`` seconds, capped, times a jitter factor in [1, 1.5)."""

    base: float = 1.0
    cap: float = 300.0
    attempts: int = 6

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (``attempt`` counts from 0)."""
        jitter = 1.0 + 0.5 * (rng or random).random()
        planned: float = min(self.cap, self.base * (2 ** min(max(attempt, 0), 1023))) * jitter  # 2**1024 overflows a float
        if retry_after is not None:
            return max(planned, min(retry_after, self.cap))
        return planned
