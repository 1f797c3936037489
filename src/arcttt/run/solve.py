"""`solve_dataset`: every selected task of a dataset solved into a run directory (see arcttt.run.run_dir).

Re-running the same command resumes: finished records are kept, the rest is redone. The
solver only ever sees tasks without their test outputs; scoring reads them after all
predictions are written.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from ..data.datasets import load_dataset
from ..data.tasks import Task
from ..errors import ArcTTTError
from ..method.scoring import build_submission, write_json_atomic
from .budget import TaskBudget
from .config import SolveConfig
from .executors import make_executor
from .run_dir import RunDir, attempts_from_records, summarise
from .solver import SolverFactory

log = logging.getLogger("arcttt")


def _setup_log(run: RunDir) -> logging.Handler:
    handler = logging.FileHandler(run.path / "log.txt")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _first(config: SolveConfig, tasks: list[Task]) -> list[Task]:
    """The tasks a run covers: all selected ones, or the first max_tasks."""
    return tasks[: config.max_tasks] if config.max_tasks else tasks


def _warn_if_oversubscribed(config: SolveConfig, executor, factory: SolverFactory, n_tasks: int) -> None:
    """On a CPU run, say so (log and stderr) when its torch threads would share cores with other busy work."""
    from ..method.models import pick_device
    from .cpu_load import busy_cores, oversubscription, usable_cores

    local = getattr(executor, "local_threads", None)  # None: workers elsewhere (Ray)
    if not n_tasks or local is None or pick_device(config.device).type != "cpu":
        return
    processes, threads = local(factory, n_tasks)
    message = oversubscription(threads, processes, usable_cores(), busy_cores())
    if message:
        warn(message)


def warn(message: str) -> None:
    """A warning in the run's log and on stderr."""
    log.warning(message)
    print(f"arcttt: warning: {message}", file=sys.stderr, flush=True)


def solve_dataset(config: SolveConfig, progress: bool = True, executor=None) -> dict:
    """Solve every selected task into the run directory; returns the summary.

    executor: where tasks run (default: the one config.executor names)."""
    if config.task_seconds is not None:
        TaskBudget.starting_now(config.task_seconds)  # a bad budget fails here, not in every task
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
        for t in tasks:
            if t.size_warning():
                warn(t.size_warning())
        done = run.finished()
        pending = [t for t in tasks if t.id not in done]
        log.info("run %s: %d tasks, %d already finished, %d to do", run.path, len(tasks), len(tasks) - len(pending),
                 len(pending))
        start = time.perf_counter()
        executor = executor or make_executor(config.executor)
        # the shared-adapter ablation trains on every selected task, not just the unfinished ones, so resumes agree
        shared = tuple(t.without_solutions() for t in tasks) if config.ttt.mode == "shared" else ()
        factory = SolverFactory(config, shared)
        _warn_if_oversubscribed(config, executor, factory, len(pending))
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc="solve", unit="task")
        for record in executor.run(factory, [t.without_solutions() for t in pending]):
            run.write_record(record)
            done[record["task_id"]] = record
            log.info("task %s: %s in %.1fs%s", record["task_id"], record["status"], record["timings"]["total_s"],
                     f" ({record['error']})" if record["error"] else "")
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        records = {t.id: done[t.id] for t in tasks if t.id in done}
        return write_outputs(run, tasks, records, time.perf_counter() - start, res.errors, config.report)
    finally:
        log.removeHandler(handler)
        handler.close()


def write_outputs(run: RunDir, tasks: list[Task], records: dict[str, dict], seconds: float,
                  load_errors: list[str] = (), report: bool = True) -> dict:
    """submission.json, summary.json and report.html of a run from its records; returns the summary."""
    write_json_atomic(run.path / "submission.json", build_submission(tasks, attempts_from_records(records)))
    summary = summarise(tasks, records, seconds)
    if load_errors:
        summary["load_errors"] = list(load_errors)  # files that could not be read as tasks
    write_json_atomic(run.path / "summary.json", summary)
    log.info("summary: %s", json.dumps({k: v for k, v in summary.items() if k != "failed"}))
    if report:
        from .report import write_report

        write_report(run.path, tasks)
    return summary
