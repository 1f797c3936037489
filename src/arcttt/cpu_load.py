"""A warning before a CPU run that would put more busy threads to work than the machine has free cores.

Torch splits each CPU kernel across its thread pool and waits for the slowest thread, so a thread
that shares its core with another busy process holds up every kernel. Measured on the 2-core
development machine (the default model, forward + backward of 2 x 600 tokens, ten times): 2 threads
took 1.6 s alone and 5.8-6.6 s beside one other busy process; 1 thread took 2.4-3.0 s alone and
2.4 s beside it. A run therefore says so when its threads, added to the machine's current load,
exceed the cores, and what to use instead.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def current_load() -> float | None:
    """The 1-minute load average (busy processes, averaged), or None where the OS has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def oversubscription(threads: int, processes: int, cores: int, load: float | None) -> str | None:
    """Why `processes` x `threads` busy torch threads would oversubscribe `cores` already running `load`
    busy processes, with the setting to use instead; None when they fit."""
    demand = threads * processes
    if demand > cores:
        return (f"{processes} process(es) x {threads} torch thread(s) = {demand} busy threads on {cores} cores: "
                f"threads that share a core slow every kernel several times; use --threads "
                f"{max(1, cores // processes)}")
    if load is not None and demand > 1 and load + demand > cores + 0.5:
        return (f"this machine is already busy (1-minute load average {load:.1f} on {cores} cores) and this run "
                f"adds {demand} busy threads: threads that share a core with another job slow every kernel "
                f"several times; use --threads 1 (and fewer workers) while the other job runs")
    return None
