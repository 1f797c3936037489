"""A warning before a CPU run that would put more busy threads to work than the machine has free cores.

Torch splits each CPU kernel across its thread pool and waits for the slowest thread, so a thread
that shares its core with another busy process holds up every kernel: several times slower than
using fewer threads (docs/performance.md, "Oversubscribed cores"). A run therefore says so when its
threads, added to the cores other processes keep busy, exceed the cores, and what to use instead.
"""

from __future__ import annotations

import os


def _usable_cpu_ids() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    ids = _usable_cpu_ids()
    return len(ids) if ids else os.cpu_count() or 1


def _cpu_times(cpu_ids: set[int], path: str = "/proc/stat") -> tuple[int, int] | None:
    """(busy, total) jiffies since boot summed over the given CPUs, from /proc/stat's per-CPU lines
    (a container may see the whole host there); None where there is no such file."""
    busy = total = 0
    try:
        with open(path) as f:
            for line in f:
                name, *values = line.split()
                if not (name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpu_ids):
                    continue
                fields = [int(x) for x in values]
                idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
                busy += sum(fields) - idle
                total += sum(fields)
    except (OSError, ValueError, IndexError):
        return None
    return (busy, total) if total else None


def busy_cores(interval: float = 0.25) -> float | None:
    """Cores that other processes keep busy right now (this one sleeps while it measures), or None
    where the OS does not say. Measured over `interval` seconds rather than read from the load
    average, which still counts a job that ended a minute ago (the setup's pip install, say)."""
    import time

    ids = _usable_cpu_ids()
    first = _cpu_times(ids) if ids else None
    if first is None:
        return None
    time.sleep(interval)
    second = _cpu_times(ids)
    if second is None or second[1] <= first[1]:
        return None
    return (second[0] - first[0]) / (second[1] - first[1]) * len(ids)


def oversubscription(threads: int, processes: int, cores: int, busy: float | None) -> str | None:
    """Why `processes` x `threads` busy torch threads would oversubscribe `cores` of which other work
    keeps `busy` busy, with the setting to use instead; None when they fit."""
    demand = threads * processes
    if demand > cores:
        return (f"{processes} process(es) x {threads} torch thread(s) = {demand} busy threads on {cores} cores: "
                f"threads that share a core slow every kernel several times; use --threads "
                f"{max(1, cores // processes)}")
    if busy is not None and demand > 1 and busy + demand > cores + 0.5:
        return (f"this machine is already busy (other processes keep {busy:.1f} of {cores} cores busy) and this run "
                f"adds {demand} busy threads: threads that share a core with another job slow every kernel "
                f"several times; use --threads 1 (and fewer workers) while the other job runs")
    return None
