"""The local process executor: the same records as the serial executor, resumable, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from arcttt.errors import ArcTTTError
from arcttt.method.config import InferenceConfig, TTTConfig, TTTDataConfig
from arcttt.method.models import GridLMConfig, build_grid_lm, save_model
from arcttt.run.config import ExecutorConfig, SolveConfig
from arcttt.run.executors.processes import ProcessExecutor
from arcttt.run.solve import solve_dataset
from arcttt.run.solver import SolverFactory
from arcttt.train.generators import generate_task

FAMILIES = ("flip", "colour_map", "transpose")
COMPARED = ("status", "error", "attempts", "candidates", "ttt")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("processes")
    save_model(build_grid_lm(GridLMConfig(48, 2, 2, 2, 96, 2048), seed=0), root / "model")
    (root / "tasks").mkdir()
    for i, fam in enumerate(FAMILIES):
        task = generate_task(fam, i, 0.0, n_train=3)
        (root / "tasks" / f"{task.id}.json").write_text(json.dumps(task.to_json()))
    return root


def config_for(root: Path, out: str, **kw) -> SolveConfig:
    kw = {"ttt": TTTConfig(max_steps=3, data=TTTDataConfig(max_examples=8)), "solver": "ttt", **kw}
    return SolveConfig(dataset=str(root / "tasks"), model=str(root / "model"), out=str(root / out), device="cpu",
                       seed=2, threads=1, inference=InferenceConfig(transforms=("identity", "rot90"), orders=1, colours=0), **kw)


def records(run: Path) -> dict[str, dict]:
    return {f.stem: json.loads(f.read_text()) for f in sorted((run / "results").glob("*.json"))}


def test_two_workers_give_the_serial_records_and_resume(workspace):
    before = torch.get_num_threads()
    try:
        serial = solve_dataset(config_for(workspace, "serial"), progress=False)
    finally:
        torch.set_num_threads(before)
    assert serial["finished"] == len(FAMILIES)
    # one task already done: the run resumes and the workers solve only the others
    (workspace / "parallel" / "results").mkdir(parents=True)
    first = sorted((workspace / "serial" / "results").glob("*.json"))[0]
    (workspace / "parallel" / "results" / first.name).write_text(first.read_text())
    summary = solve_dataset(config_for(workspace, "parallel", executor=ExecutorConfig("processes", workers=2)),
                            progress=False)
    saved = json.loads((workspace / "parallel" / "config.json").read_text())
    assert saved["executor"]["kind"] == "processes" and saved["executor"]["workers"] == 2 and saved["threads"] == 1
    assert summary["finished"] == len(FAMILIES) and not summary["failed"]
    want, got = records(workspace / "serial"), records(workspace / "parallel")
    assert got.keys() == want.keys()
    for tid in want:
        assert all(got[tid][k] == want[tid][k] for k in COMPARED), tid
    assert summary["score"] == serial["score"]


def test_process_executor_refusals(workspace):
    with pytest.raises(ArcTTTError, match="workers must be at least 1"):
        ProcessExecutor(workers=0)
    shared = config_for(workspace, "shared", ttt=TTTConfig(mode="shared", max_steps=2))
    with pytest.raises(ArcTTTError, match="shared-adapter"):
        list(ProcessExecutor(2).run(SolverFactory(shared), [generate_task("flip", 0, 0.0, n_train=3)]))
