"""The vLLM backend: pure parts on CPU (no vllm needed), the engine itself only with vllm and CUDA."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arcttt.data.codec import END, GRID_VOCAB, INPUT, NEWLINE, OUTPUT, Vocab  # noqa: E402
from arcttt.method.config import InferenceConfig, TTTConfig  # noqa: E402
from arcttt.method.inference import greedy_decode, predict  # noqa: E402
from arcttt.method.models import GridLMConfig, LoadedModel, build_grid_lm, save_model  # noqa: E402
from arcttt.method.ttt import TaskAdapter  # noqa: E402
from arcttt.method.vllm_backend import (  # noqa: E402
    adapter_problems,
    build_requests,
    grid_regex,
    grid_text_ok,
    grid_token_ids,
    predict_with,
    save_adapter,
)
from arcttt.train.generators import generate_task  # noqa: E402

INF = InferenceConfig(transforms=("identity", "rot90", "flip_h", "transpose"), orders=2, colours=0)


def tiny_model():
    return build_grid_lm(GridLMConfig(64, 2, 2, 2, 128, 2048), seed=0).eval()  # head_dim 32: every attention backend


def test_grid_token_ids_cover_cells_newline_and_end_only():
    assert grid_token_ids(GRID_VOCAB) == [*range(10), NEWLINE, END]
    mapped = Vocab(tuple(range(100, 113)) + (1, 2, 1))  # an HF-style vocab: bos=pad=eos-like ids
    assert grid_token_ids(mapped) == [*range(100, 111), 2]


def test_grid_regex_accepts_rectangles_only():
    assert grid_text_ok("7\n")
    assert grid_text_ok("012\n345\n")
    assert grid_text_ok(("1" * 30 + "\n") * 30)
    assert not grid_text_ok("")
    assert not grid_text_ok("01\n2\n")  # ragged
    assert not grid_text_ok("1" * 31 + "\n")  # too wide
    assert not grid_text_ok(("1\n") * 31)  # too tall
    assert not grid_text_ok("12")  # row not ended
    assert grid_regex(2) == "(?:[0-9]{1}\\n){1,2}|(?:[0-9]{2}\\n){1,2}"


def _copy_engine(prompts, adapters, max_tokens):
    """A fake engine that answers each prompt with its own query input grid (then END)."""
    out = []
    for p in prompts:
        p = np.asarray(p)
        q_start = np.flatnonzero(p == INPUT)[-1] + 1
        q_end = np.flatnonzero(p == OUTPUT)[-1]
        out.append((p[q_start:q_end].tolist() + [END], -float(len(p))))
    return out


def test_predict_with_maps_every_view_back_to_the_task_frame():
    tasks = [generate_task("flip", 5, 0.0, n_train=3, n_test=2).without_solutions(),
             generate_task("colour_map", 6, 0.0, n_train=4).without_solutions()]
    items = [(tasks[0], "/adapters/a"), (tasks[1], None)]
    reqs = build_requests(items, INF, GRID_VOCAB, 0, 2048)
    assert {r.adapter for r in reqs if r.task_index == 0} == {"/adapters/a"}
    assert all(r.max_tokens == min(931, 2048 - len(r.view.prompt)) for r in reqs)
    got = predict_with(_copy_engine, items, GRID_VOCAB, INF, seed=0, max_positions=2048)
    assert [len(g) for g in got] == [2, 1]
    for task, per_task in zip(tasks, got):
        for test, cands in zip(task.test, per_task):
            # one candidate per (transform, order) view, each inverted back to the original query input
            assert len(cands) == len({c.transform for c in cands}) >= len(INF.transforms)
            assert all(np.array_equal(c.grid, test.input) for c in cands)
            assert all(c.logprob < 0 for c in cands)


def test_unparseable_outputs_are_dropped_and_missing_end_is_added():
    task = generate_task("flip", 2, 0.0, n_train=3).without_solutions()

    def engine(prompts, adapters, max_tokens):
        outs = []
        for i, (tokens, lp) in enumerate(_copy_engine(prompts, adapters, max_tokens)):
            if i == 0:
                tokens = [1, 2, NEWLINE, 3, NEWLINE, END]  # ragged: dropped
            elif i == 1:
                tokens = tokens[:-1]  # END left out by the engine: still parsed
            outs.append((tokens, lp))
        return outs

    n_views = len(build_requests([(task, None)], INF, GRID_VOCAB, 0, 2048))
    cands = predict_with(engine, [(task, None)], GRID_VOCAB, INF, 0, 2048)[0][0]
    assert len(cands) == n_views - 1
    assert all(np.array_equal(c.grid, task.test[0].input) for c in cands)


def test_predict_with_hf_greedy_engine_equals_inference_predict():
    """The shared pipeline around an engine reproduces inference.predict (same views, seeds, inversion)."""
    model = tiny_model()
    task = generate_task("transpose", 1, 0.0, n_train=3).without_solutions()
    cfg = InferenceConfig(transforms=("identity", "rot90", "flip_v"), orders=2, batch_size=64, colours=0)
    want = predict(model, GRID_VOCAB, task, cfg, seed=4)[0]

    def hf_engine(prompts, adapters, max_tokens):
        return greedy_decode(model, [np.asarray(p) for p in prompts], GRID_VOCAB, 2048)

    got = predict_with(hf_engine, [(task, None)], GRID_VOCAB, cfg, seed=4, max_positions=2048)[0][0]
    assert [c.transform for c in got] == [c.transform for c in want]
    assert all(np.array_equal(a.grid, b.grid) for a, b in zip(got, want))
    assert [c.logprob for c in got] == pytest.approx([c.logprob for c in want], rel=1e-4)


def test_saved_adapter_is_checked_against_vllm_limits(tmp_path):
    model = tiny_model()
    save_model(model, tmp_path / "base")
    loaded = LoadedModel(model, GRID_VOCAB, str(tmp_path / "base"), torch.device("cpu"), torch.float32)
    default = TaskAdapter(loaded, TTTConfig(mode="lora", lora_rank=8))  # targets lm_head too
    folder = save_adapter(default.model, tmp_path / "a1")
    cfg = json.loads((tmp_path / "a1" / "adapter_config.json").read_text())
    assert cfg["r"] == 8 and "lm_head" in cfg["target_modules"]
    problems = adapter_problems(folder, max_lora_rank=128)
    assert len(problems) == 1 and "lm_head" in problems[0]
    assert any("rank 8" in p for p in adapter_problems(folder, max_lora_rank=4))


@pytest.mark.gpu
def test_vllm_engine_on_gpu(tmp_path):
    """Needs vllm and CUDA: grid-restricted greedy decoding with a per-request adapter."""
    pytest.importorskip("vllm")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    from peft import LoraConfig, get_peft_model

    from arcttt.method.vllm_backend import VLLMBackend

    base = tiny_model()
    save_model(base, tmp_path / "base")
    # an adapter with random (not zero) B matrices, so it visibly changes the outputs
    torch.manual_seed(0)
    peft_model = get_peft_model(tiny_model(), LoraConfig(r=8, lora_alpha=32, init_lora_weights=False,
                                                         target_modules=["q_proj", "v_proj", "gate_proj",
                                                                         "up_proj", "down_proj"]))
    adapter = save_adapter(peft_model, tmp_path / "adapter")
    assert adapter_problems(adapter, 32) == []
    backend = VLLMBackend(tmp_path / "base", max_lora_rank=32, max_loras=2, gpu_memory_utilization=0.3,
                          max_model_len=2048, enforce_eager=True)
    task = generate_task("flip", 3, 0.0, n_train=3).without_solutions()
    reqs = build_requests([(task, adapter)], INF, backend.vocab, 0, backend.max_positions)
    prompts = [r.view.prompt.ids.tolist() for r in reqs]
    with_adapter = backend.generate(prompts, [adapter] * len(prompts), [40] * len(prompts))
    without = backend.generate(prompts, [None] * len(prompts), [40] * len(prompts))
    allowed = set(grid_token_ids(backend.vocab))
    assert len(with_adapter) == len(prompts)
    assert all(set(t) <= allowed and t for t, _ in with_adapter + without)
    assert [t for t, _ in with_adapter] != [t for t, _ in without]
    # the first token vLLM picks (with the adapter) is a near-argmax under the HF peft model
    hf = peft_model.to("cuda").eval()
    with torch.no_grad():
        for p, (tokens, _) in zip(prompts, with_adapter):
            logp = torch.log_softmax(hf(torch.tensor([p], device="cuda")).logits[0, -1].float(), -1)
            best = max(float(logp[i]) for i in allowed)
            assert float(logp[tokens[0]]) >= best - 0.05
    cands = backend.predict(task, INF, seed=0, adapter=adapter)
    assert len(cands) == 1 and all(c.grid.ndim == 2 for c in cands[0])


class FakeVLLMBackend:
    """Stands in for the vLLM engine on a CPU: decodes with the Solver's own (adapted) model through the
    same request pipeline, and records the adapter folders it was handed."""

    model = None
    adapters: list = []

    def __init__(self, model_path, max_lora_rank, dtype):
        self.max_lora_rank = max_lora_rank

    def predict(self, task, config, seed, adapter=None):
        FakeVLLMBackend.adapters.append(adapter)
        assert not [p for p in adapter_problems(adapter, self.max_lora_rank) if "rank" in p]  # the engine fits it

        def engine(prompts, adapters, max_tokens):
            assert adapters == [adapter] * len(prompts)
            return greedy_decode(FakeVLLMBackend.model, [np.asarray(p) for p in prompts], GRID_VOCAB, 2048)

        return predict_with(engine, [(task, adapter)], GRID_VOCAB, config, seed, 2048)[0]


def test_solve_backend_vllm_serves_each_tasks_adapter(tmp_path, monkeypatch):
    """`arcttt solve --backend vllm`: TTT as usual, then the task's LoRA adapter is saved and served per
    request; the attempts equal the HF engine's (same greedy decoding of the same adapted model)."""
    import arcttt.method.vllm_backend as vb
    from arcttt.errors import ArcTTTError
    from arcttt.run.config import SolveConfig
    from arcttt.run.solver import Solver

    save_model(tiny_model(), tmp_path / "base")
    monkeypatch.setattr(vb, "VLLMBackend", FakeVLLMBackend)
    tasks = [generate_task("flip", s, 0.0, n_train=3) for s in (1, 2)]
    config = SolveConfig(model=str(tmp_path / "base"), device="cpu", threads=1, inference=INF, solver="ttt",
                         ttt=TTTConfig(mode="lora", max_steps=3, lora_rank=8, lr=1e-2))
    hf = Solver(config)
    want = [hf.solve(t.without_solutions()) for t in tasks]
    solver = Solver(replace(config, backend="vllm"))
    FakeVLLMBackend.model, FakeVLLMBackend.adapters = solver.adapter.model, []
    got = [solver.solve(t.without_solutions()) for t in tasks]
    assert [r["status"] for r in got] == ["ok", "ok"]
    assert [r["attempts"] for r in got] == [r["attempts"] for r in want]
    assert [[c["grid"] for c in r["candidates"][0]] for r in got] == [[c["grid"] for c in r["candidates"][0]]
                                                                      for r in want]
    assert [Path(a).name for a in FakeVLLMBackend.adapters] == [t.id for t in tasks]
    assert all((Path(a) / "adapter_config.json").is_file() for a in FakeVLLMBackend.adapters)
    with pytest.raises(ArcTTTError, match="--ttt lora"):
        Solver(replace(config, backend="vllm", ttt=replace(config.ttt, mode="full")))
