"""pass@2 scoring and Kaggle `submission.json` read/write.

A submission maps every task id to one entry per test input, in order, each
``{"attempt_1": grid, "attempt_2": grid}``. Scoring reports both Kaggle's
per-output score (partial credit for multi-output tasks) and the paper's
per-task score (a task counts only when all its test outputs are right).
A missing or malformed entry scores as wrong with a warning, never a crash.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..data.tasks import Grid, Task, grid_to_list, validate_grid
from ..errors import SubmissionError, TaskFormatError

ATTEMPT_KEYS = ("attempt_1", "attempt_2")


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON so that a crash never leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def submission_entry(attempts: Sequence[Grid], fallback: Grid) -> dict:
    """Two attempts for one test input; missing attempts are filled with `fallback`."""
    grids = list(attempts)[:2]
    while len(grids) < 2:
        grids.append(grids[0] if grids else fallback)
    return {k: grid_to_list(g) for k, g in zip(ATTEMPT_KEYS, grids)}


def build_submission(tasks: Sequence[Task], attempts: dict[str, list[list[Grid]]]) -> dict:
    """A complete submission: every task, every test input; the test input stands in where nothing was predicted."""
    sub = {}
    for t in tasks:
        per_test = attempts.get(t.id, [])
        sub[t.id] = [submission_entry(per_test[i] if i < len(per_test) else [], p.input)
                     for i, p in enumerate(t.test)]
    return sub


def read_submission(path: str | Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SubmissionError(f"{path}: cannot read submission ({e})") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"{path}: a submission must be a JSON object mapping task ids to lists")
    return data


@dataclass
class Score:
    outputs_total: int = 0
    outputs_correct: float = 0
    tasks_total: int = 0
    tasks_correct: int = 0
    kaggle_score: float = 0.0
    """Sum over tasks of the fraction of its test outputs right (Kaggle's leaderboard number)."""
    per_level: dict = field(default_factory=dict)
    solved: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def output_accuracy(self) -> float:
        return self.outputs_correct / self.outputs_total if self.outputs_total else 0.0

    @property
    def task_accuracy(self) -> float:
        return self.tasks_correct / self.tasks_total if self.tasks_total else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["output_accuracy"] = self.output_accuracy
        d["task_accuracy"] = self.task_accuracy
        return d


def _attempts_of(entry: Any, where: str, warnings: list[str]) -> list[Grid]:
    """The attempts of one entry; a malformed entry (any attempt missing or not a grid) gives none."""
    if not isinstance(entry, dict):
        warnings.append(f"{where}: entry is not an object; scored as wrong")
        return []
    grids = []
    for k in ATTEMPT_KEYS:
        if k not in entry:
            warnings.append(f"{where}: missing {k}; scored as wrong")
            return []
        try:
            grids.append(validate_grid(entry[k], f"{where} {k}"))
        except TaskFormatError as e:
            warnings.append(f"{e}; scored as wrong")
            return []
    return grids


def score_submission(submission: dict, tasks: Sequence[Task], levels: dict[str, str] | None = None) -> Score:
    """pass@2 of a submission against tasks that carry their test outputs."""
    s = Score()
    levels = levels or {}
    for t in tasks:
        if not t.has_solutions:
            raise SubmissionError(f"task {t.id} has no test outputs to score against")
        entries = submission.get(t.id)
        if entries is None:
            s.warnings.append(f"task {t.id}: missing from the submission; scored as wrong")
            entries = []
        elif not isinstance(entries, list):
            s.warnings.append(f"task {t.id}: entry is not a list; scored as wrong")
            entries = []
        elif len(entries) != len(t.test):
            s.warnings.append(f"task {t.id}: {len(entries)} entries for {len(t.test)} test inputs")
        right = 0
        for i, p in enumerate(t.test):
            grids = _attempts_of(entries[i], f"task {t.id} test {i}", s.warnings) if i < len(entries) else []
            right += any(g.shape == p.output.shape and np.array_equal(g, p.output) for g in grids)
        s.outputs_total += len(t.test)
        s.outputs_correct += right
        s.kaggle_score += right / len(t.test)
        s.tasks_total += 1
        solved = right == len(t.test)
        s.tasks_correct += solved
        if solved:
            s.solved.append(t.id)
        level = levels.get(t.id)
        if level:
            lv = s.per_level.setdefault(level, {"tasks": 0, "solved": 0})
            lv["tasks"] += 1
            lv["solved"] += solved
    return s


LEVEL_ORDER = ("easy", "medium", "hard", "expert")
"""dev80's difficulty levels, easiest first; other level names follow alphabetically."""


def ordered_levels(per_level: dict) -> list[str]:
    """Level names in difficulty order (for tables and reports)."""
    return sorted(per_level, key=lambda k: (LEVEL_ORDER.index(k) if k in LEVEL_ORDER else len(LEVEL_ORDER), k))


def format_score(s: Score) -> str:
    lines = [
        f"per task   (paper):  {s.tasks_correct}/{s.tasks_total} = {100 * s.task_accuracy:.1f}%",
        f"per output (kaggle): {s.outputs_correct}/{s.outputs_total} = {100 * s.output_accuracy:.1f}%",
        f"kaggle score: {s.kaggle_score:.2f} / {s.tasks_total}",
    ]
    for level in ordered_levels(s.per_level):
        v = s.per_level[level]
        lines.append(f"  {level:8s} {v['solved']}/{v['tasks']}")
    return "\n".join(lines)
