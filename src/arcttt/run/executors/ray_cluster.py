"""The Ray executor: one Ray task per ARC task, spread over the CPUs/GPUs of a Ray cluster.

It decides *where* a task is solved, never *what* is computed: a worker builds the
same Solver as the serial executor (from the run's SolverFactory) and every random choice
comes from (seed, task id), so records equal the serial ones for the same seed and
the same torch thread count (on CPU the thread count changes float reduction order:
log-probabilities can differ in the 6th significant digit, so each worker uses
``int(cpus_per_task)`` threads and a comparison must use the same count serially).

- Resources per task: ``num_cpus=cpus_per_task``, ``num_gpus=gpus_per_task``
  (fractions allowed: 0.25 packs four workers, each with its own model copy, on one GPU).
- Workers keep one Solver per process (module-level cache keyed by the factory's
  key: the result-affecting settings and the device), so the base model is loaded once per worker, not per
  task. Ray would recycle a GPU task's worker after each call by default
  (``max_calls=1``); the remote function is declared with ``max_calls=0`` so
  workers live on and the cache pays off.
- A worker process that dies (OOM kill, segfault, preemption) is retried by Ray
  up to ``max_retries`` times. A task whose retries are spent yields no record:
  it stays unfinished in the run directory and the next run redoes it. Exceptions
  inside a task never get here: ``Solver.solve`` records them as failed.
- Records are yielded as tasks complete (``ray.wait``), so ``solve_dataset`` writes
  each one as it arrives and an interrupted run resumes from its run directory.
- The shared-adapter mode (``ttt.mode='shared'``) trains one adapter on all tasks
  before solving any of them; it cannot be split across workers and is refused.

Test-only hook: with ``ARCTTT_RAY_CRASH_DIR`` set in a worker's environment, a file
``<dir>/<task id>.crash`` makes the first worker that picks that task rename it to
``.crashed`` and exit with ``os._exit(1)``, which exercises Ray's retry path.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Iterator, Sequence

import ray

from ...data.tasks import Task
from ...errors import ArcTTTError

log = logging.getLogger("arcttt")

CRASH_DIR_ENV = "ARCTTT_RAY_CRASH_DIR"

# ---------------------------------------------------------------- worker side

_SOLVERS: dict[str, object] = {}
_LOADS = 0  # how many Solvers this worker process has built (the cache should keep it at 1)


def cached_solver(factory, threads: int):
    """The worker's Solver for this factory, built on first use (the base model loads once per process)."""
    global _LOADS
    key = factory.key()
    solver = _SOLVERS.get(key)
    if solver is None:
        _SOLVERS.clear()  # one model per worker: drop a Solver of an earlier, different run
        solver = _SOLVERS[key] = factory(threads=threads)
        _LOADS += 1
    return solver


def _maybe_crash(task_id: str) -> None:
    """Test hook: die once, hard, on a task flagged by a marker file (see the module docstring)."""
    folder = os.environ.get(CRASH_DIR_ENV)
    if not folder:
        return
    marker = os.path.join(folder, f"{task_id}.crash")
    try:
        os.rename(marker, marker + "ed")  # atomic: exactly one worker wins the marker
    except OSError:
        return
    os._exit(1)


def solve_task(factory, task: Task, threads: int) -> tuple[dict, dict]:
    """Body of the remote task: (result record, worker info for the executor's stats)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _maybe_crash(task.id)
    start = time.perf_counter()
    solver = cached_solver(factory, threads)
    record = solver.solve(task)
    info = {"task_id": task.id, "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(),
            "gpu_ids": [str(g) for g in ray.get_gpu_ids()], "loads": _LOADS, "threads": torch.get_num_threads(),
            "seconds": round(time.perf_counter() - start, 3)}
    return record, info


# ---------------------------------------------------------------- driver side

class RayExecutor:
    """Solve tasks as Ray tasks; yields result records in completion order.

    address: an existing cluster ('auto', 'ray://host:10001', 'host:6379'); None starts
    a local one unless RAY_ADDRESS is set (ray.init's own rules). num_cpus / num_gpus
    size a local cluster (logical GPUs are fine for testing). runtime_env is passed to
    every task (e.g. ``{"py_modules": [...]}`` or ``{"env_vars": {...}}``).
    """

    def __init__(self, address: str | None = None, gpus_per_task: float = 0.0, cpus_per_task: float = 1.0,
                 max_retries: int = 2, num_cpus: int | None = None, num_gpus: int | None = None,
                 runtime_env: dict | None = None):
        if gpus_per_task < 0 or cpus_per_task < 0:
            raise ArcTTTError("gpus_per_task and cpus_per_task must not be negative")
        if gpus_per_task > 1 and gpus_per_task != int(gpus_per_task):
            raise ArcTTTError(f"gpus_per_task {gpus_per_task}: fractions are allowed only below 1 (Ray's rule)")
        if max_retries < 0:
            raise ArcTTTError("max_retries must be >= 0")
        self.address = address
        self.gpus_per_task = float(gpus_per_task)
        self.cpus_per_task = float(cpus_per_task)
        self.max_retries = int(max_retries)
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.runtime_env = runtime_env
        self.threads = max(1, int(cpus_per_task))
        self.stats: list[dict] = []
        """One entry per finished task: worker pid, node, GPU ids, Solver loads so far, seconds."""
        self.failures: dict[str, str] = {}
        """Tasks whose workers died more often than max_retries allows (left unfinished)."""

    def ensure_ray(self) -> None:
        """Connect to the cluster at `address`, or start a local one, unless Ray is already up."""
        if ray.is_initialized():
            return
        kwargs: dict = {"ignore_reinit_error": True, "log_to_driver": True}
        if self.address:
            if self.num_cpus is not None or self.num_gpus is not None:
                raise ArcTTTError("num_cpus/num_gpus size a local Ray cluster; an existing one (address) has its own")
            kwargs["address"] = self.address
        else:
            kwargs.update(num_cpus=self.num_cpus, num_gpus=self.num_gpus, include_dashboard=False)
        try:
            ray.init(**kwargs)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise ArcTTTError(f"cannot start or reach Ray{f' at {self.address}' if self.address else ''}: {e}") from None

    def _check_fits(self) -> None:
        total = ray.cluster_resources()
        for name, need in (("GPU", self.gpus_per_task), ("CPU", self.cpus_per_task)):
            if need > 0 and total.get(name, 0.0) < need:
                raise ArcTTTError(f"each task asks for {need} {name} but the Ray cluster has {total.get(name, 0.0)}; "
                                  f"lower --{name.lower()}s-per-task or add nodes")

    def remote_function(self):
        options = {"num_cpus": self.cpus_per_task, "num_gpus": self.gpus_per_task, "max_retries": self.max_retries,
                   "retry_exceptions": False, "max_calls": 0}
        if self.runtime_env:
            options["runtime_env"] = self.runtime_env
        return ray.remote(**options)(solve_task)

    def run(self, factory, tasks: Sequence[Task]) -> Iterator[dict]:
        if not factory.splittable:
            raise ArcTTTError("ttt mode 'shared' trains one adapter on all tasks before solving any; it cannot be "
                              "split over Ray workers: use --executor serial for it")
        tasks = list(tasks)
        if not tasks:
            return
        self.ensure_ray()
        self._check_fits()
        fn = self.remote_function()
        if self.gpus_per_task == 0:
            # Ray leaves CUDA_VISIBLE_DEVICES alone for tasks without GPUs: 'auto' would put every
            # CPU-only task on GPU 0 behind the scheduler's back, so such tasks run on the CPU.
            factory = factory.on_cpu()
        factory_ref = ray.put(factory)
        ids = {}
        for t in tasks:
            ids[fn.remote(factory_ref, t, self.threads)] = t.id
        pending = list(ids)
        log.info("ray: %d tasks submitted (%.2g CPU, %.2g GPU each, %d retries), cluster %s", len(pending),
                 self.cpus_per_task, self.gpus_per_task, self.max_retries, json.dumps(ray.cluster_resources()))
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    task_id = ids[ref]
                    try:
                        record, info = ray.get(ref)
                    except ray.exceptions.RayError as e:
                        # the worker died on every try (or the task was cancelled): leave it unfinished
                        msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                        self.failures[task_id] = msg
                        log.warning("task %s: no result from Ray after %d retries (%s); re-run to redo it",
                                    task_id, self.max_retries, msg)
                        continue
                    self.stats.append(info)
                    yield record
        finally:
            for ref in pending:  # the consumer stopped early (Ctrl-C, an error): drop queued work
                ray.cancel(ref)

    def describe(self) -> dict:
        return {"address": self.address, "gpus_per_task": self.gpus_per_task, "cpus_per_task": self.cpus_per_task,
                "max_retries": self.max_retries, "threads": self.threads}

