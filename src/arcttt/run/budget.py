"""One time budget per task (`--task-seconds`): how a task's seconds are split between its stages.

The search gets at most SEARCH_SHARE of the budget; TTT trains until (1 - INFERENCE_SHARE) of the
budget has passed, its learning-rate schedule following the clock (so the steps it takes are what
this machine's throughput allows); augmented inference then decodes views by priority until the
budget ends. Results then depend on the machine's speed, which a fixed number of steps avoids.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import ArcTTTError

SEARCH_SHARE = 0.25
"""Most of a budget the program search may use (its own --search-seconds still caps it)."""
INFERENCE_SHARE = 0.2
"""Part of the budget kept for augmented inference and voting after TTT."""


@dataclass(frozen=True)
class TaskBudget:
    seconds: float
    start: float
    """time.perf_counter() when the task began."""

    def __post_init__(self):
        if not self.seconds > 0:
            raise ArcTTTError(f"--task-seconds must be positive (got {self.seconds})")

    @classmethod
    def starting_now(cls, seconds: float) -> "TaskBudget":
        return cls(seconds, time.perf_counter())

    @property
    def deadline(self) -> float:
        return self.start + self.seconds

    def search_seconds(self, configured: float) -> float:
        return min(configured, SEARCH_SHARE * self.seconds)

    def ttt_seconds(self) -> float:
        """Training time left before inference's share begins (at least a moment: one step runs)."""
        return max(1e-3, self.start + (1 - INFERENCE_SHARE) * self.seconds - time.perf_counter())
