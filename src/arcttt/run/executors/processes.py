"""Local process executor: N worker processes on one machine, each solving whole tasks.

Small models on a CPU use threads poorly (a 128-wide matmul or one decode step does not
split well over cores), so several single-threaded workers solve more tasks per minute than
one process with as many threads (docs/performance.md). Needs nothing beyond the standard
library (the Ray executor does the same across machines).

Each worker builds one Solver from the factory (the base model loads once per process) and
solves the tasks it is handed, largest first; records come back in completion order, so the
run writes each as it arrives. Records equal the serial executor's at the same thread count.
A worker process that dies ends the run early: finished records are kept and the next run
redoes the rest (the run directory resumes).
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator, Sequence

from ...data.tasks import Task
from ...errors import ArcTTTError
from ..cpu_load import usable_cores

log = logging.getLogger("arcttt")

_SOLVER = None  # this worker process's Solver


def _init_worker(factory, threads: int) -> None:
    global _SOLVER
    _SOLVER = factory(threads=threads)


def _solve(task: Task) -> dict:
    return _SOLVER.solve(task)


def task_size(task: Task) -> int:
    """Grid cells in the task (demonstrations and test inputs): a proxy for its TTT + inference cost."""
    cells = sum(p.input.size + p.output.size for p in task.train)
    return cells + sum(p.input.size for p in task.test)


class ProcessExecutor:
    """Solve tasks in `workers` local processes, each with the factory's torch threads
    (default: the cores shared out, at least one each)."""

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise ArcTTTError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def local_threads(self, factory, n_tasks: int) -> tuple[int, int]:
        """(worker processes, torch threads each) that `run` starts for n_tasks tasks."""
        return min(self.workers, max(1, n_tasks)), factory.threads or max(1, usable_cores() // self.workers)

    def run(self, factory, tasks: Sequence[Task]) -> Iterator[dict]:
        if not factory.splittable:
            raise ArcTTTError("the shared-adapter ablation trains one adapter on all tasks; use the serial executor")
        tasks = list(tasks)
        if not tasks:
            return
        workers, threads = self.local_threads(factory, len(tasks))
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch thread pools
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(factory, threads)) as pool:
            # longest first: a long task started last would leave the other workers idle at the end
            pending = {pool.submit(_solve, t): t.id for t in sorted(tasks, key=task_size, reverse=True)}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        pending.pop(future)
                        yield future.result()
            except BrokenProcessPool as e:
                log.error("a worker process died (%s); %d tasks left unfinished for the next run", e, len(pending))
            finally:
                for future in pending:
                    future.cancel()
