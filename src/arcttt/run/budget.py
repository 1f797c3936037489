"""One time budget per task (`--task-seconds`): how a task's seconds are split between its stages.

The search gets at most SEARCH_SHARE of the budget. Augmented inference is given what its views
and the choice of attempts are expected to cost at the speeds measured on the previous tasks (at
most INFERENCE_SHARE of the budget; that share until a first task has been measured); TTT trains
until then, its learning-rate schedule following the clock (so the steps it takes are what this
machine's throughput allows); inference then decodes views by priority while they fit, leaving
the time the choice is expected to take.
Results then depend on the machine's speed, which a fixed number of steps avoids.
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

    def ttt_seconds(self, inference_estimate: float | None = None) -> float:
        """Training time left before inference's time begins (at least a moment: one step runs)."""
        inference = INFERENCE_SHARE * self.seconds
        if inference_estimate is not None:
            inference = min(inference, inference_estimate)
        return max(1e-3, self.deadline - inference - time.perf_counter())


class InferenceCost:
    """What inference cost on the tasks solved so far: seconds per decoded token (prompt and generated),
    and seconds of choosing the attempts (product of experts rescores; voting is nearly free)."""

    def __init__(self):
        self.decode_seconds = 0.0
        self.tokens = 0
        self.selection_seconds = 0.0
        self.tasks = 0

    def add(self, decode_seconds: float, stats: dict, selection_seconds: float) -> None:
        self.decode_seconds += decode_seconds
        self.tokens += stats.get("prompt_tokens", 0) + stats.get("generated_tokens", 0)
        self.selection_seconds += selection_seconds
        self.tasks += 1

    def selection(self) -> float:
        """Expected seconds of choosing the attempts (0 before anything was measured)."""
        return self.selection_seconds / self.tasks if self.tasks else 0.0

    def estimate(self, tokens: int) -> float | None:
        """Expected seconds to decode `tokens` tokens and choose; None before anything was measured."""
        if not self.tokens:
            return None
        return self.decode_seconds / self.tokens * tokens + self.selection()


def view_tokens(task, config, seed: int) -> int:
    """Tokens the task's inference views will decode: each prompt, and an answer the size of its query."""
    from ..data.codec import GRID_VOCAB, output_length
    from ..method.inference import augmented_views

    total = 0
    for i, pair in enumerate(task.test):
        answer = output_length(pair.input)
        total += sum(len(v.prompt) + answer for v in augmented_views(task, i, config, GRID_VOCAB, seed))
    return total
