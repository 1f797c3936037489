"""The pipeline: test-time training + augmented inference + voting, for one task and for a dataset.

A run directory is the unit of persistence::

    RUN/config.json        the resolved configuration
    RUN/results/ID.json    one record per task, written atomically when the task ends
    RUN/log.txt            what happened, task by task
    RUN/submission.json    Kaggle format, every task and test input
    RUN/summary.json       pass@2 per output / per task / per level, timings, failures

Re-running the same command resumes: finished records are kept, the rest is
redone. The solver only ever sees tasks without their test outputs; scoring
reads them after all predictions are written.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from .datasets import difficulty_levels, load_dataset
from .errors import ArcTTTError
from .inference import InferenceConfig, predict, score_grids
from .scoring import build_submission, score_submission, write_json_atomic
from .tasks import Task, grid_key, grid_to_list, validate_grid
from .ttt import TaskAdapter, TTTConfig
from .ttt_data import TTTDataConfig
from .voting import vote

log = logging.getLogger("arcttt")

DEFAULT_MODEL = "models/arcttt-h128x6-2heads"
"""The shipped default grid LM (README, "The shipped models and their results")."""


@dataclass
class SolveConfig:
    dataset: str = "arc1/eval"
    """Bundled name (arc1/eval, ...), folder of task JSON, task file or Kaggle challenges file."""
    tasks: str | None = None
    """Subset: 'dev80', a CSV with task_id, or comma-separated ids."""
    model: str = DEFAULT_MODEL
    out: str = "runs/solve"
    gguf_file: str | None = None
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    voting: str = "hierarchical"
    """hierarchical (the paper), flat, or poe: product of experts, rescoring the top candidates of
    hierarchical voting under every inference transform and ranking by summed log-probability."""
    poe_candidates: int = 6
    max_tasks: int | None = None
    ttt: TTTConfig = field(default_factory=TTTConfig)
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    executor: str = "serial"
    threads: int | None = None
    """Torch CPU threads (None: torch's default, one per core)."""

    def result_affecting(self) -> dict:
        """The fields that change predictions; a resumed run must agree on them."""
        d = asdict(self)
        for k in ("out", "max_tasks", "executor", "device", "threads"):
            d.pop(k)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SolveConfig":
        d = dict(d)
        ttt = dict(d.pop("ttt", {}))
        ttt["data"] = TTTDataConfig(**ttt.get("data", {}))
        ttt["target_modules"] = tuple(ttt.get("target_modules", TTTConfig().target_modules))
        inf = dict(d.pop("inference", {}))
        if "transforms" in inf:
            inf["transforms"] = tuple(inf["transforms"])
        return cls(ttt=TTTConfig(**ttt), inference=InferenceConfig(**inf), **d)


class Solver:
    """Holds the model and its adapter; solves one task at a time (the base is loaded once)."""

    def __init__(self, config: SolveConfig, progress: bool = False):
        from .models import load_model, set_threads

        self.config = config
        set_threads(config.threads)
        self.loaded = load_model(config.model, config.device, config.dtype, config.gguf_file)
        self.adapter = TaskAdapter(self.loaded, config.ttt, config.seed, progress=progress)

    def prepare(self, tasks: list[Task]) -> None:
        """Work shared by all tasks before solving (the shared-adapter ablation)."""
        if self.config.ttt.mode == "shared":
            self.adapter.adapt_shared(tasks)

    def solve(self, task: Task) -> dict:
        """A result record for one task; failures are recorded, never raised."""
        record: dict = {"task_id": task.id, "status": "ok", "error": None, "attempts": [], "candidates": [],
                        "timings": {}, "ttt": {}}
        start = time.perf_counter()
        try:
            if task.has_solutions and task.test and task.test[0].output is not None:
                raise ArcTTTError("the solver was handed test outputs")  # guard against peeking
            report = self.adapter.adapt(task)
            record["ttt"] = {"mode": self.adapter.config.mode, "examples": report.examples, "steps": report.steps,
                             "tokens": report.tokens, "precision": report.precision, "losses": _thin(report.losses)}
            record["timings"]["ttt_s"] = round(report.seconds, 3)
            t0 = time.perf_counter()
            stats: dict = {}
            with self.adapter.folded() as model:
                per_test = predict(model, self.loaded.vocab, task, self.config.inference, self.config.seed, stats)
                chosen = [self._choose(model, task, i, c) for i, c in enumerate(per_test)]
            record["inference"] = stats
            record["timings"]["inference_s"] = round(time.perf_counter() - t0, 3)
            for candidates, result in zip(per_test, chosen):
                record["attempts"].append([grid_to_list(g) for g in result.attempts])
                record["candidates"].append([
                    {"grid": grid_to_list(r.grid), "votes": r.votes, "logprob": round(r.logprob, 4),
                     "transforms": sorted({c.transform for c in candidates if c.grid.shape == r.grid.shape
                                           and (c.grid == r.grid).all()})}
                    for r in result.ranking[:10]])
                if not result.attempts:
                    record["status"] = "failed"
                    record["error"] = "no valid candidate grid was decoded"
        except Exception as e:  # one bad task never stops the run: record it and go on
            record["status"] = "failed"
            record["error"] = f"{type(e).__name__}: {e}"
            if not isinstance(e, ArcTTTError):
                record["traceback"] = traceback.format_exc(limit=5)
        finally:
            self.adapter.end_task()  # per-task weights dropped; the shared adapter stays
        record["timings"]["total_s"] = round(time.perf_counter() - start, 3)
        return record

    def _choose(self, model, task: Task, test_index: int, candidates: list):
        if self.config.voting != "poe":
            return vote(candidates, self.config.voting)
        shortlist = vote(candidates, "hierarchical").ranking[: self.config.poe_candidates]
        scores = score_grids(model, self.loaded.vocab, task, test_index, [r.grid for r in shortlist],
                             self.config.inference.transforms)
        return vote([c for c in candidates if grid_key(c.grid) in scores], "scores", scores=scores)


def _thin(values: list[float], keep: int = 50) -> list[float]:
    if len(values) <= keep:
        return [round(v, 4) for v in values]
    step = len(values) / keep
    return [round(values[int(i * step)], 4) for i in range(keep)] + [round(values[-1], 4)]


def _flatten(d: dict, prefix: str = "") -> dict:
    """{'ttt': {'mode': 'lora'}} -> {'ttt.mode': 'lora'}; tuples compare equal to lists."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = list(v) if isinstance(v, tuple) else v
    return out


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.results = self.path / "results"

    def prepare(self, config: SolveConfig) -> None:
        """Create, or check that a resumed run used the same result-affecting settings."""
        self.results.mkdir(parents=True, exist_ok=True)
        cfg_path = self.path / "config.json"
        if cfg_path.exists():
            old = SolveConfig.from_dict(json.loads(cfg_path.read_text()))
            before, now = _flatten(old.result_affecting()), _flatten(config.result_affecting())
            if before != now:
                diff = [f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in sorted(set(before) | set(now))
                        if before.get(k) != now.get(k)]
                raise ArcTTTError(f"{self.path} holds a run with different settings ({'; '.join(diff)}); "
                                  "use another --out or delete it")
        write_json_atomic(cfg_path, asdict(config))

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


def _setup_log(run: RunDir) -> logging.Handler:
    handler = logging.FileHandler(run.path / "log.txt")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


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


def _first(config: SolveConfig, tasks: list[Task]) -> list[Task]:
    """The tasks a run covers: all selected ones, or the first max_tasks."""
    return tasks[: config.max_tasks] if config.max_tasks else tasks


def selected_tasks(config: SolveConfig) -> list[Task]:
    """The tasks a run covers, without their test outputs."""
    return [t.without_solutions() for t in _first(config, load_dataset(config.dataset, config.tasks).tasks)]


def _warn_if_oversubscribed(config: SolveConfig, executor, n_tasks: int) -> None:
    """On a CPU run, say so (log and stderr) when its torch threads would share cores with other busy work."""
    from .cpu_load import busy_cores, oversubscription, usable_cores
    from .models import pick_device

    local = getattr(executor, "local_threads", None)  # None: workers elsewhere (Ray)
    if not n_tasks or local is None or pick_device(config.device).type != "cpu":
        return
    processes, threads = local(config, n_tasks)
    message = oversubscription(threads, processes, usable_cores(), busy_cores())
    if message:
        log.warning(message)
        print(f"arcttt: warning: {message}", file=sys.stderr, flush=True)


def solve_dataset(config: SolveConfig, progress: bool = True, executor=None) -> dict:
    """Solve every selected task into the run directory; returns the summary."""
    res = load_dataset(config.dataset, config.tasks)
    tasks = _first(config, res.tasks)
    if not tasks:
        raise ArcTTTError(f"no tasks selected from {config.dataset}")
    run = RunDir(config.out)
    run.prepare(config)
    handler = _setup_log(run)
    try:
        for err in res.errors:
            log.warning("load error: %s", err)
        done = run.finished()
        pending = [t for t in tasks if t.id not in done]
        log.info("run %s: %d tasks, %d already finished, %d to do", run.path, len(tasks), len(tasks) - len(pending),
                 len(pending))
        start = time.perf_counter()
        if executor is None:
            from .executors import SerialExecutor

            executor = SerialExecutor()
        _warn_if_oversubscribed(config, executor, len(pending))
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc="solve", unit="task")
        for record in executor.run(config, [t.without_solutions() for t in pending]):
            run.write_record(record)
            done[record["task_id"]] = record
            log.info("task %s: %s in %.1fs%s", record["task_id"], record["status"], record["timings"]["total_s"],
                     f" ({record['error']})" if record["error"] else "")
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        records = {t.id: done[t.id] for t in tasks if t.id in done}
        write_json_atomic(run.path / "submission.json", build_submission(tasks, attempts_from_records(records)))
        summary = summarise(tasks, records, time.perf_counter() - start)
        if res.errors:
            summary["load_errors"] = list(res.errors)  # files that could not be read as tasks
        write_json_atomic(run.path / "summary.json", summary)
        log.info("summary: %s", json.dumps({k: v for k, v in summary.items() if k != "failed"}))
        return summary
    finally:
        log.removeHandler(handler)
        handler.close()


def iter_solve(config: SolveConfig, tasks: Iterable[Task], progress: bool = False):
    """Solve tasks one after another in this process, yielding records."""
    solver = Solver(config, progress=progress)
    tasks = list(tasks)
    if config.ttt.mode == "shared":  # train on every selected task, not just the unfinished ones, so resumes agree
        solver.prepare(selected_tasks(config))
    for t in tasks:
        yield solver.solve(t)
