"""The warning against more busy torch threads than free cores, and what each executor reports."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from arcttt.run import cpu_load, solve
from arcttt.run.config import SolveConfig
from arcttt.run.executors import SerialExecutor
from arcttt.run.executors.processes import ProcessExecutor
from arcttt.run.solver import SolverFactory


def test_threads_that_fit_raise_nothing():
    assert cpu_load.oversubscription(1, 2, 2, 0.0) is None  # two single-threaded workers on 2 cores
    assert cpu_load.oversubscription(2, 1, 2, 0.1) is None  # an idle machine
    assert cpu_load.oversubscription(2, 1, 2, None) is None  # the OS does not say
    assert cpu_load.oversubscription(1, 1, 2, 3.0) is None  # one thread: nothing fewer to suggest


def test_more_threads_than_cores_names_the_setting_that_fits():
    message = cpu_load.oversubscription(2, 2, 2, 0.0)
    assert "4 busy threads on 2 cores" in message and "--threads 1" in message
    assert "--threads 2" in cpu_load.oversubscription(4, 2, 4, 0.0)


def test_a_busy_machine_is_named_with_its_load():
    message = cpu_load.oversubscription(2, 1, 2, 1.0)
    assert "keep 1.0 of 2 cores busy" in message and "--threads 1" in message


def test_executors_report_the_threads_they_start():
    factory = SolverFactory(SolveConfig(threads=3))
    assert SerialExecutor().local_threads(factory, 5) == (1, 3)
    assert ProcessExecutor(workers=4).local_threads(factory, 2) == (2, 3)  # no more workers than tasks
    cores = cpu_load.usable_cores()
    assert ProcessExecutor(workers=2).local_threads(SolverFactory(SolveConfig()), 9) == (2, max(1, cores // 2))


def warn_if_oversubscribed(executor, n_tasks: int) -> None:
    config = SolveConfig(device="cpu", threads=2)
    solve._warn_if_oversubscribed(config, executor, SolverFactory(config), n_tasks)


@pytest.mark.parametrize("busy, warned", [(1.5, True), (0.0, False)])
def test_a_cpu_run_warns_on_stderr_and_in_the_log(monkeypatch, capsys, caplog, busy, warned):
    monkeypatch.setattr(cpu_load, "usable_cores", lambda: 2)
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: busy)
    warn_if_oversubscribed(SerialExecutor(), 3)
    err = capsys.readouterr().err
    assert ("arcttt: warning: this machine is already busy" in err) is warned
    assert any("already busy" in r.getMessage() for r in caplog.records) is warned


def test_no_warning_without_tasks_or_local_workers(monkeypatch, capsys):
    monkeypatch.setattr(cpu_load, "usable_cores", lambda: 1)
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: 4.0)
    warn_if_oversubscribed(SerialExecutor(), 0)
    warn_if_oversubscribed(object(), 3)  # e.g. Ray: elsewhere
    assert capsys.readouterr().err == ""


def test_busy_cores_sees_another_busy_process():
    if cpu_load.busy_cores(0.05) is None:
        pytest.skip("no /proc/stat here")
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert cpu_load.busy_cores(0.5) >= 0.6  # one spinning process is most of a core
    finally:
        spin.kill()
        spin.wait()


def test_cpu_times_count_only_this_process_cpus(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  300 0 300 2400 0 0 0 0 0 0\n"  # the whole host
                    "cpu0 100 0 0 100 0 0 0 0 0 0\n"
                    "cpu1 0 0 50 140 10 0 0 0 0 0\n"
                    "cpu2 200 0 250 2160 0 0 0 0 0 0\n"  # not ours (another container's core)
                    "intr 12345\n")
    assert cpu_load._cpu_times({0, 1}, str(stat)) == (150, 400)  # busy = total - idle - iowait
    assert cpu_load._cpu_times({7}, str(stat)) is None
    assert cpu_load._cpu_times({0}, str(tmp_path / "missing")) is None
