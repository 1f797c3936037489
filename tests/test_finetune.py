"""finetune: the contamination check, a tiny run that writes a loadable model, resume from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import arcttt.method.trainer as trainer_mod
from arcttt.cli.main import main
from arcttt.data.codec import encode_task
from arcttt.data.tasks import Pair, Task
from arcttt.errors import ArcTTTError
from arcttt.method.models import load_model
from arcttt.train.finetune import (
    ContaminationError,
    FinetuneConfig,
    epoch_examples,
    finetune,
    overlap,
    recorded_training_pool,
    task_example,
    training_pool,
)
from arcttt.train.generators import generate_task


def _write(folder: Path, tasks) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t in tasks:
        (folder / f"{t.id}.json").write_text(json.dumps(t.to_json()))
    return folder


@pytest.fixture(scope="module")
def train_tasks():
    return [generate_task(f, seed=s, difficulty=0.0) for f in ("colour_map", "flip") for s in range(3)]


@pytest.fixture
def folders(tmp_path, train_tasks):
    """A training folder, a clean evaluation folder and a contaminated one (same id; same pair)."""
    train = _write(tmp_path / "train", train_tasks)
    clean = _write(tmp_path / "eval_clean", [generate_task("flip", seed=50, difficulty=0.0)])
    same_id = Task(train_tasks[0].id, [Pair(np.array([[1]], np.uint8), np.array([[2]], np.uint8))] * 2,
                   [Pair(np.array([[3]], np.uint8), np.array([[4]], np.uint8))])
    victim = train_tasks[4].train[1]
    same_pair = Task("innocent-looking-id", [Pair(np.array([[5]], np.uint8), np.array([[6]], np.uint8)), victim],
                     [Pair(np.array([[7]], np.uint8), np.array([[8]], np.uint8))])
    dirty = _write(tmp_path / "eval_dirty", [same_id, same_pair])
    return {"train": train, "clean": clean, "dirty": dirty, "by_id": train_tasks[0].id, "by_pair": train_tasks[4].id}


def _config(folders, tmp_path, **kw) -> FinetuneConfig:
    base = dict(data=str(folders["train"]), eval_sets=str(folders["clean"]), size="nano", steps=4, lr=3e-3,
                batch_size=2, max_tokens=512, checkpoint_every=2, device="cpu", out=str(tmp_path / "model"))
    return FinetuneConfig(**{**base, **kw})


def test_overlap_by_id_and_by_identical_pair(folders, train_tasks):
    from arcttt.data.datasets import load_folder

    bad = overlap(train_tasks, load_folder(folders["dirty"]).tasks)
    assert set(bad) == {folders["by_id"], folders["by_pair"]}
    assert "task id" in bad[folders["by_id"]] and "pair" in bad[folders["by_pair"]]
    assert overlap(train_tasks, load_folder(folders["clean"]).tasks) == {}
    # a pair that only matches with input and output swapped is no overlap
    p = train_tasks[4].train[1]
    assert overlap(train_tasks, [Task("x", [Pair(p.output, p.input)] * 2, [])]) == {}


def test_training_pool_refuses_or_drops_contaminated_tasks(folders, tmp_path, train_tasks):
    with pytest.raises(ContaminationError, match="2 training tasks overlap") as e:
        training_pool(_config(folders, tmp_path, eval_sets=str(folders["dirty"])))
    assert "--drop-overlap" in str(e.value)
    tasks, record = training_pool(_config(folders, tmp_path, eval_sets=str(folders["dirty"]), drop_overlap=True))
    assert {t.id for t in tasks} == {t.id for t in train_tasks} - {folders["by_id"], folders["by_pair"]}
    assert record["dropped_overlap"] == sorted([folders["by_id"], folders["by_pair"]])
    tasks, record = training_pool(_config(folders, tmp_path))
    assert len(tasks) == len(train_tasks) and record["dropped_overlap"] == []


def test_finetune_cli_refuses_contamination_and_drops_on_request(folders, tmp_path, capsys):
    argv = ["finetune", "--data", str(folders["train"]), "--eval-sets", str(folders["dirty"]), "--size", "nano",
            "--steps", "2", "--batch-size", "2", "--max-tokens", "512", "--device", "cpu", "--quiet",
            "--checkpoint-every", "0", "--out", str(tmp_path / "cli_model")]
    assert main(argv) == 1
    assert "overlap the evaluation sets" in capsys.readouterr().err
    assert not (tmp_path / "cli_model" / "config.json").exists()
    assert main([*argv, "--drop-overlap"]) == 0
    meta = json.loads((tmp_path / "cli_model" / "arcttt.json").read_text())
    assert meta["steps"] == 2 and len(meta["data"]["dropped_overlap"]) == 2


def test_training_examples_are_augmented_and_fit(train_tasks):
    cfg = FinetuneConfig(max_tokens=200, seed=0)
    e0, e1 = epoch_examples(train_tasks, 0, cfg), epoch_examples(train_tasks, 1, cfg)
    assert e0 and all(len(e) <= 200 and e.loss_mask.any() for e in e0)
    assert any(not np.array_equal(a.ids, b.ids) for a, b in zip(e0, e1))  # fresh augmentation each epoch
    assert [e.ids.tolist() for e in e0] == [e.ids.tolist() for e in epoch_examples(train_tasks, 0, cfg)]
    one_pair = Task("one", [Pair(np.array([[1]], np.uint8), np.array([[2]], np.uint8))], [])
    assert task_example(one_pair, np.random.default_rng(0), 100) is None


class Crash(Exception):
    pass


def test_tiny_finetune_writes_a_loadable_model_and_resumes(folders, tmp_path, monkeypatch, train_tasks):
    whole = finetune(_config(folders, tmp_path, out=str(tmp_path / "whole")), progress=False)
    lm = load_model(whole, device="cpu")
    meta = json.loads((whole / "arcttt.json").read_text())
    assert meta["steps"] == 4 and meta["data"]["tasks"] == len(train_tasks) and np.isfinite(meta["final_loss"])
    assert lm.model.config.hidden_size == 64  # the nano preset

    # the same run, killed right after its first checkpoint (step 2), then started again
    original = trainer_mod._save_state

    def save_then_die(ckpt, model, opt, sched, result):
        original(ckpt, model, opt, sched, result)
        raise Crash(f"killed after step {result.steps}")

    monkeypatch.setattr(trainer_mod, "_save_state", save_then_die)
    out = tmp_path / "resumed"
    with pytest.raises(Crash, match="step 2"):
        finetune(_config(folders, tmp_path, out=str(out)), progress=False)
    assert (out / "checkpoints" / "trainer_state.pt").exists() and not (out / "config.json").exists()
    monkeypatch.setattr(trainer_mod, "_save_state", original)
    finetune(_config(folders, tmp_path, out=str(out)), progress=False)
    again = load_model(out, device="cpu")
    assert json.loads((out / "arcttt.json").read_text())["steps"] == 4
    ids = torch.as_tensor(encode_task(train_tasks[0]).ids)[None]
    with torch.no_grad():
        a, b = lm.model(input_ids=ids).logits, again.model(input_ids=ids).logits
    assert torch.allclose(a, b, atol=1e-5)
    # and the result can start another fine-tuning run (init from a folder)
    cont = finetune(_config(folders, tmp_path, out=str(tmp_path / "cont"), init=str(whole), steps=2,
                            checkpoint_every=0), progress=False)
    cont_meta = json.loads((cont / "arcttt.json").read_text())
    assert cont_meta["steps"] == 2
    # it records the earlier stage, so its whole training pool can be rebuilt for contamination checks
    assert cont_meta["init"]["config"] == meta["config"]
    pool_ids = [t.id for t in recorded_training_pool(cont)]
    assert sorted(pool_ids) == sorted([t.id for t in train_tasks] * 2)
    # with a cache, each stage is rebuilt once and a later model sharing it reads it back
    stages = {}
    assert [t.id for t in recorded_training_pool(cont, stages)] == pool_ids and len(stages) == 2
    assert sorted(t.id for t in recorded_training_pool(whole, stages)) == sorted(t.id for t in train_tasks)
    assert len(stages) == 2 and [t.id for t in recorded_training_pool(cont, stages)] == pool_ids


def test_finetune_grows_a_model_with_mixed_precision(folders, tmp_path, train_tasks):
    base = finetune(_config(folders, tmp_path, out=str(tmp_path / "base"), checkpoint_every=0), progress=False)
    grown = finetune(_config(folders, tmp_path, out=str(tmp_path / "grown"), init=str(base), grow_layers=3,
                             mixed_bf16=True, steps=2, checkpoint_every=0), progress=False)
    lm = load_model(grown, device="cpu")
    meta = json.loads((grown / "arcttt.json").read_text())
    assert lm.model.config.num_hidden_layers == 3 and lm.dtype == torch.float32  # bf16 only inside autocast
    assert meta["config"]["grow_layers"] == 3 and meta["config"]["mixed_bf16"] and np.isfinite(meta["final_loss"])
    with pytest.raises(ArcTTTError, match="init"):
        finetune(_config(folders, tmp_path, out=str(tmp_path / "x"), grow_layers=3), progress=False)
    merged = finetune(_config(folders, tmp_path, out=str(tmp_path / "merged"), init=str(base), merge_heads=1,
                              steps=2, checkpoint_every=0), progress=False)
    config = load_model(merged, device="cpu").model.config
    assert config.num_attention_heads == 1 and config.head_dim == config.hidden_size
    assert json.loads((merged / "arcttt.json").read_text())["config"]["merge_heads"] == 1
