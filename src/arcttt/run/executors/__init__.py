"""Executors decide where each task's solve runs, never what it computes.

Every executor takes a SolverFactory (arcttt.run.solver) and the tasks, builds Solvers
where it runs them, and yields result records as tasks finish:

- serial: this process, one task after another;
- processes (arcttt.run.executors.processes): local worker processes;
- ray (arcttt.run.executors.ray_cluster): one Ray task per ARC task on a cluster.

They never import the pipeline: the factory is all they know of it.
"""

from __future__ import annotations

from typing import Iterator, Sequence

from ...data.tasks import Task
from ...errors import ArcTTTError


class SerialExecutor:
    def local_threads(self, factory, n_tasks: int) -> tuple[int, int]:
        """(processes, torch threads each) that `run` keeps busy: this one, at its thread setting."""
        import torch

        return 1, factory.threads or torch.get_num_threads()

    def run(self, factory, tasks: Sequence[Task]) -> Iterator[dict]:
        if not tasks:
            return
        solver = factory()
        for task in tasks:
            yield solver.solve(task)


def make_executor(config) -> "SerialExecutor":
    """The executor an ExecutorConfig (arcttt.run.config) names, with its settings."""
    if config.kind == "serial":
        return SerialExecutor()
    if config.kind == "processes":
        from .processes import ProcessExecutor

        return ProcessExecutor(workers=config.workers)
    if config.kind == "ray":
        try:
            from .ray_cluster import RayExecutor
        except ModuleNotFoundError as e:
            raise ArcTTTError(f"the ray executor needs {e.name}: pip install 'arcttt[ray]'") from None
        return RayExecutor(address=config.ray_address, gpus_per_task=config.gpus_per_task,
                           cpus_per_task=config.cpus_per_task, max_retries=config.ray_retries)
    raise ArcTTTError(f"unknown executor '{config.kind}'; choose serial, processes or ray")
