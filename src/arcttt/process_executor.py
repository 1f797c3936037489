"""Local process executor: N worker processes on one machine, each solving whole tasks.

Small models on a CPU use threads poorly (a 128-wide matmul or one decode step does not
split well over cores), so on a 2-core laptop two single-threaded workers solve about
twice as many tasks per minute as one process with two threads. Needs nothing beyond the
standard library (the Ray executor does the same across machines).

Each worker builds one Solver (the base model loads once per process) and solves the
tasks it is handed, largest first; records come back in completion order, so solve_dataset writes each
as it arrives. Records equal the serial executor's at the same thread count. A worker
process that dies ends the run early: finished records are kept and the next run redoes
the rest (the run directory resumes).
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator, Sequence

from .cpu_load import usable_cores
from .errors import ArcTTTError
from .tasks import Task

log = logging.getLogger("arcttt")

_SOLVER = None  # this worker process's Solver


def _init_worker(config, threads: int) -> None:
    global _SOLVER
    import torch

    from .solve import Solver

    torch.set_num_threads(threads)
    _SOLVER = Solver(config, progress=False)


def _solve(task: Task) -> dict:
    return _SOLVER.solve(task)


def task_size(task: Task) -> int:
    """Grid cells in the task (demonstrations and test inputs): a proxy for its TTT + inference cost."""
    cells = sum(p.input.size + p.output.size for p in task.train)
    return cells + sum(p.input.size for p in task.test)


class ProcessExecutor:
    """Solve tasks in `workers` local processes, each with config.threads torch threads
    (default: the cores shared out, at least one each)."""

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise ArcTTTError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def local_threads(self, config, n_tasks: int) -> tuple[int, int]:
        """(worker processes, torch threads each) that `run` starts for n_tasks tasks."""
        return min(self.workers, max(1, n_tasks)), config.threads or max(1, usable_cores() // self.workers)

    def run(self, config, tasks: Sequence[Task]) -> Iterator[dict]:
        if config.ttt.mode == "shared":
            raise ArcTTTError("the shared-adapter ablation trains one adapter on all tasks; use the serial executor")
        tasks = list(tasks)
        if not tasks:
            return
        workers, threads = self.local_threads(config, len(tasks))
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked torch thread pools
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(config, threads)) as pool:
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
