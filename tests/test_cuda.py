"""The CUDA path (skipped without a GPU): bf16 test-time training + inference, and a solve run."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

needs_cuda = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def cuda_test(fn):
    for mark in needs_cuda:
        fn = mark(fn)
    return fn

from arcttt.method.config import InferenceConfig, TTTConfig, TTTDataConfig  # noqa: E402
from arcttt.method.inference import predict  # noqa: E402
from arcttt.method.models import GridLMConfig, build_grid_lm, load_model, save_model  # noqa: E402
from arcttt.method.ttt import TaskAdapter  # noqa: E402
from arcttt.method.voting import transform_group  # noqa: E402
from arcttt.run.config import SolveConfig  # noqa: E402
from arcttt.run.solve import solve_dataset  # noqa: E402
from arcttt.train.generators import generate_task  # noqa: E402

TTT = TTTConfig(mode="lora", max_steps=4, data=TTTDataConfig(max_examples=16))
INF = InferenceConfig(transforms=("identity", "rot90", "flip_h"), orders=2, colours=0)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cuda") / "model"
    save_model(build_grid_lm(GridLMConfig(64, 2, 2, 2, 128, 2048), seed=0), path)
    return path


@cuda_test
def test_bf16_ttt_and_inference_on_cuda(model_dir):
    loaded = load_model(model_dir, device="cuda")
    assert loaded.device.type == "cuda" and loaded.dtype == torch.bfloat16
    assert next(loaded.model.parameters()).dtype == torch.bfloat16
    adapter = TaskAdapter(loaded, TTT, seed=0)
    lora_before = {k: v.clone() for k, v in adapter.model.state_dict().items() if "lora_B" in k}
    task = generate_task("flip", 0, 0.0, n_train=3).without_solutions()
    report = adapter.adapt(task)
    assert report.steps == 4 and len(report.losses) == 4
    assert all(math.isfinite(x) and x > 0 for x in report.losses)
    after = adapter.model.state_dict()
    assert any(not torch.equal(after[k], v) for k, v in lora_before.items())  # training moved the adapter
    assert all(after[k].is_cuda for k in lora_before)
    cands = predict(adapter.model, loaded.vocab, task, INF, seed=0)
    assert len(cands) == 1 and cands[0]
    assert all(c.grid.ndim == 2 and c.grid.max() <= 9 and math.isfinite(c.logprob) for c in cands[0])
    assert {transform_group(c.transform) for c in cands[0]} <= set(INF.transforms)
    adapter.reset()
    assert all(torch.equal(adapter.model.state_dict()[k], v) for k, v in lora_before.items())
    assert torch.cuda.max_memory_allocated() > 0


@cuda_test
def test_solve_run_on_gpu(model_dir, tmp_path):
    data = tmp_path / "tasks"
    data.mkdir()
    for i, fam in enumerate(("flip", "colour_map")):
        t = generate_task(fam, i, 0.0, n_train=3)
        (data / f"{t.id}.json").write_text(json.dumps(t.to_json()))
    cfg = SolveConfig(dataset=str(data), model=str(model_dir), out=str(tmp_path / "run"), device="cuda",
                      solver="ttt", ttt=TTT, inference=INF)
    summary = solve_dataset(cfg, progress=False)
    assert summary["finished"] == 2 and not summary["failed"]
    assert "score" in summary  # generated tasks carry solutions, so the run is scored
    sub = json.loads((tmp_path / "run" / "submission.json").read_text())
    assert sorted(sub) == sorted(p.stem for p in data.glob("*.json"))
    for f in (tmp_path / "run" / "results").glob("*.json"):
        rec = json.loads(f.read_text())
        assert rec["status"] == "ok" and rec["attempts"] and rec["timings"]["ttt_s"] > 0


def test_gpu_speed_dry_run_writes_its_json(tmp_path):
    """bench/gpu_speed.py's CPU path (what gpu_smoke.sh runs on a GPU, scaled down)."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "gpu_speed.py"
    spec = importlib.util.spec_from_file_location("gpu_speed", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "speed.json"
    assert mod.main(["--dry-run", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["device"] == "cpu" and res["machine"]["hostname"]
    assert [m["model"] for m in res["models"]] == ["default", "llama1b-grid"]
    for m in res["models"]:
        row = m["tasks"][0]
        assert "error" not in row and row["ttt_steps"] == 2 and row["ttt_s"] > 0 and row["inference_s"] > 0
        assert m["mean"]["full_ttt_s_estimate"] >= m["mean"]["s_per_step"]
