"""Executors decide where each task's solve runs, never what it computes.

The serial executor solves in this process; the process executor (arcttt.process_executor)
runs local worker processes; the Ray executor (arcttt.ray_executor) spreads tasks over a
cluster. All yield result records as tasks finish.
"""

from __future__ import annotations

from typing import Iterator, Sequence

from .errors import ArcTTTError
from .tasks import Task


class SerialExecutor:
    def local_threads(self, config, n_tasks: int) -> tuple[int, int]:
        """(processes, torch threads each) that `run` keeps busy: this one, at its thread setting."""
        import torch

        return 1, config.threads or torch.get_num_threads()

    def run(self, config, tasks: Sequence[Task]) -> Iterator[dict]:
        from .solve import iter_solve

        if not tasks:
            return iter(())
        return iter_solve(config, tasks)


def make_executor(name: str, **options):
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        from .process_executor import ProcessExecutor

        return ProcessExecutor(**options)
    if name == "ray":
        try:
            from .ray_executor import RayExecutor
        except ModuleNotFoundError as e:
            raise ArcTTTError(f"the ray executor needs {e.name}: pip install -e '.[ray]'") from None
        return RayExecutor(**options)
    raise ArcTTTError(f"unknown executor '{name}'; choose serial, processes or ray")
