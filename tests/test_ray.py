"""The Ray executor on a local cluster with logical GPUs: same records as serial, retries, resume.

One Ray cluster for the module (startup is slow). Workers run with one torch thread
and so does the serial reference: on CPU the thread count changes float reduction
order (log-probabilities differ in the 6th digit), so identity needs equal counts.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
torch = pytest.importorskip("torch")

from arcttt.errors import ArcTTTError  # noqa: E402
from arcttt.method.config import InferenceConfig, TTTConfig, TTTDataConfig  # noqa: E402
from arcttt.method.models import GridLMConfig, build_grid_lm, save_model  # noqa: E402
from arcttt.run.config import ExecutorConfig, SolveConfig  # noqa: E402
from arcttt.run.executors import make_executor  # noqa: E402
from arcttt.run.executors.ray_cluster import CRASH_DIR_ENV, RayExecutor  # noqa: E402
from arcttt.run.solve import solve_dataset  # noqa: E402
from arcttt.run.solver import SolverFactory  # noqa: E402
from arcttt.train.generators import generate_task  # noqa: E402

FAMILIES = ("flip", "colour_map", "transpose", "rotate")
COMPARED = ("status", "error", "attempts", "candidates", "ttt")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray")
    save_model(build_grid_lm(GridLMConfig(48, 2, 2, 2, 96, 2048), seed=0), root / "model")
    data = root / "tasks"
    data.mkdir()
    for i, fam in enumerate(FAMILIES):
        task = generate_task(fam, i, 0.0, n_train=3)
        (data / f"{task.id}.json").write_text(json.dumps(task.to_json()))
    (root / "crash").mkdir()
    return root


@pytest.fixture(scope="module")
def cluster(workspace):
    """A local cluster: 2 CPUs, 2 logical GPUs; every worker sees the crash-hook folder."""
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=80 * 1024 * 1024,
             runtime_env={"env_vars": {CRASH_DIR_ENV: str(workspace / "crash")}})
    yield
    ray.shutdown()


def config_for(workspace: Path, out: str, **kw) -> SolveConfig:
    return SolveConfig(dataset=str(workspace / "tasks"), model=str(workspace / "model"), out=str(workspace / out),
                       device="cpu", seed=3, solver="ttt",
                       ttt=TTTConfig(max_steps=3, data=TTTDataConfig(max_examples=8)),
                       inference=InferenceConfig(transforms=("identity", "rot90", "flip_h"), orders=1, colours=0), **kw)


def records(run: Path) -> dict[str, dict]:
    return {f.stem: json.loads(f.read_text()) for f in sorted((run / "results").glob("*.json"))}


def same(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in COMPARED)


@pytest.fixture(scope="module")
def serial(workspace):
    """Reference records from the serial executor, with the workers' thread count (1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = solve_dataset(config_for(workspace, "serial"), progress=False)
    finally:
        torch.set_num_threads(before)
    assert summary["finished"] == len(FAMILIES)
    recs = records(workspace / "serial")
    assert all(r["status"] == "ok" and r["attempts"] for r in recs.values())
    return recs


def test_ray_matches_serial_and_loads_model_once_per_worker(workspace, cluster, serial):
    ex = RayExecutor(gpus_per_task=0.5, cpus_per_task=1)
    summary = solve_dataset(config_for(workspace, "ray"), progress=False, executor=ex)
    assert summary["finished"] == len(FAMILIES) and not summary["failed"]
    got = records(workspace / "ray")
    assert got.keys() == serial.keys()
    for tid in serial:
        assert same(got[tid], serial[tid]), tid
    # every task ran on a worker that was handed a (logical) GPU and one torch thread
    assert len(ex.stats) == len(FAMILIES)
    assert all(s["gpu_ids"] and s["threads"] == 1 for s in ex.stats)
    # the Solver (base model) was built once per worker process, then reused
    pids = {s["pid"] for s in ex.stats}
    assert len(pids) <= 2 < len(FAMILIES)
    assert all(s["loads"] == 1 for s in ex.stats)


def test_dead_worker_is_retried(workspace, cluster, serial):
    victim = sorted(serial)[1]
    marker = workspace / "crash" / f"{victim}.crash"
    marker.touch()
    ex = RayExecutor(cpus_per_task=1, max_retries=2)
    summary = solve_dataset(config_for(workspace, "retry"), progress=False, executor=ex)
    assert not marker.exists() and marker.with_suffix(".crashed").exists()  # the hook fired: a worker died
    assert summary["finished"] == len(FAMILIES) and not ex.failures
    got = records(workspace / "retry")
    assert all(same(got[t], serial[t]) for t in serial)


def test_interrupted_run_resumes_without_recomputing(workspace, cluster, serial):
    ids = sorted(serial)
    run = workspace / "resume"
    # 1) interrupted after two tasks
    first = solve_dataset(config_for(workspace, "resume", max_tasks=2), progress=False, executor=RayExecutor())
    assert first["finished"] == 2
    mtimes = {f.name: f.stat().st_mtime_ns for f in (run / "results").glob("*.json")}
    assert sorted(Path(n).stem for n in mtimes) == ids[:2]
    # 2) a worker dies on task 3 and no retry is allowed: the task stays unfinished, the rest is written
    (workspace / "crash" / f"{ids[2]}.crash").touch()
    ex = RayExecutor(max_retries=0)
    second = solve_dataset(config_for(workspace, "resume"), progress=False, executor=ex)
    assert set(ex.failures) == {ids[2]}
    assert second["finished"] == len(ids) - 1
    assert ids[2] not in records(run)
    # 3) rerun: only the missing task is solved; earlier records are untouched
    ex = RayExecutor(max_retries=0)
    third = solve_dataset(config_for(workspace, "resume"), progress=False, executor=ex)
    assert third["finished"] == len(ids) and not ex.failures
    assert [s["task_id"] for s in ex.stats] == [ids[2]]
    for name, t in mtimes.items():
        assert (run / "results" / name).stat().st_mtime_ns == t
    got = records(run)
    assert all(same(got[t], serial[t]) for t in ids)


def test_refuses_shared_mode_and_oversized_requests(workspace, cluster):
    cfg = config_for(workspace, "shared")
    shared = replace(cfg, ttt=replace(cfg.ttt, mode="shared"))
    with pytest.raises(ArcTTTError, match="shared"):
        list(RayExecutor().run(SolverFactory(shared), []))
    with pytest.raises(ArcTTTError, match="GPU"):
        from arcttt.data.datasets import load_dataset

        list(RayExecutor(gpus_per_task=3).run(SolverFactory(cfg), load_dataset(cfg.dataset).tasks[:1]))
    with pytest.raises(ArcTTTError, match="fractions"):
        RayExecutor(gpus_per_task=1.5)


def test_make_executor_builds_ray_executor():
    ex = make_executor(ExecutorConfig("ray", gpus_per_task=0.25, cpus_per_task=2))
    assert isinstance(ex, RayExecutor)
    assert (ex.gpus_per_task, ex.cpus_per_task, ex.threads) == (0.25, 2.0, 2)
