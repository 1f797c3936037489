"""The run directory, the unit of persistence of a solve run::

    RUN/config.json        the resolved configuration (a resumed run must match it)
    RUN/results/ID.json    one record per task, written atomically when the task ends
    RUN/log.txt            what happened, task by task
    RUN/submission.json    Kaggle format, every task and test input
    RUN/summary.json       pass@2 per output / per task / per level, timings, failures
    RUN/report.html        the run as one page of grids (arcttt.run.report)

A damaged or missing record is redone by the next run; finished ones are kept.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

from ..data.datasets import difficulty_levels
from ..data.tasks import Task, validate_grid
from ..errors import ArcTTTError
from ..fields import flat_dict
from ..method.scoring import build_submission, score_submission, write_json_atomic
from .config import SolveConfig


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.results = self.path / "results"

    def prepare(self, config: SolveConfig) -> None:
        """Create, or check that a resumed run used the same result-affecting settings."""
        self.results.mkdir(parents=True, exist_ok=True)
        cfg_path = self.path / "config.json"
        if cfg_path.exists():
            saved = json.loads(cfg_path.read_text())
            before, now = self.config().result_affecting(), config.result_affecting()
            # a setting added to arcttt after the run started is the same run while it keeps its default
            known = flat_dict(saved)
            default = SolveConfig().result_affecting()
            before = {k: v for k, v in before.items() if k in known or v != default.get(k)}
            now = {k: v for k, v in now.items() if k in known or v != default.get(k)}
            if before != now:
                diff = [f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in sorted(set(before) | set(now))
                        if before.get(k) != now.get(k)]
                raise ArcTTTError(f"{self.path} holds a run with different settings ({'; '.join(diff)}); "
                                  "use another --out or delete it")
        write_json_atomic(cfg_path, dataclasses.asdict(config))

    def config(self) -> SolveConfig:
        path = self.path / "config.json"
        if not path.is_file():
            raise ArcTTTError(f"{self.path} is not a run directory (no config.json)")
        try:
            return SolveConfig.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as e:
            raise ArcTTTError(f"{path}: not valid JSON ({e})") from None

    def record_path(self, task_id: str) -> Path:
        return self.results / f"{task_id}.json"

    def finished(self) -> dict[str, dict]:
        out = {}
        for f in self.results.glob("*.json"):
            try:
                rec = json.loads(f.read_text())
                out[rec["task_id"]] = rec
            except (json.JSONDecodeError, KeyError, OSError):
                continue  # a damaged record is redone
        return out

    def write_record(self, record: dict) -> None:
        write_json_atomic(self.record_path(record["task_id"]), record)


def attempts_from_records(records: dict[str, dict]) -> dict[str, list[list]]:
    return {tid: [[validate_grid(g) for g in per_test] for per_test in rec.get("attempts", [])]
            for tid, rec in records.items()}


def summarise(tasks: list[Task], records: dict[str, dict], run_seconds: float) -> dict:
    """pass@2 per output and per task (when solutions are known), timings and failures."""
    summary: dict = {"tasks": len(tasks), "finished": sum(t.id in records for t in tasks),
                     "failed": {tid: r["error"] for tid, r in records.items() if r["status"] != "ok"},
                     "run_seconds": round(run_seconds, 1)}
    totals = [r["timings"].get("total_s", 0.0) for r in records.values()]
    if totals:
        summary["seconds_per_task"] = {"median": round(statistics.median(totals), 2),
                                       "mean": round(statistics.mean(totals), 2)}
    if tasks and all(t.has_solutions for t in tasks):
        sub = build_submission(tasks, attempts_from_records(records))
        score = score_submission(sub, tasks, difficulty_levels())
        summary["score"] = score.to_dict()
        summary["score"].pop("warnings")
    return summary
