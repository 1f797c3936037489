"""The shipped default model never trained on anything the benchmarks evaluate.

Rebuilds the exact training pool from the configuration recorded in the model
folder and checks it against ARC-AGI-1/2 evaluation and the generator's
held-out benchmark tasks: no shared task id, no identical (input, output) pair.
"""

import sys
from pathlib import Path

import pytest

from arcttt.datasets import load
from arcttt.finetune import overlap, pair_keys, recorded_training_pool
from arcttt.generators import get_family, list_families

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "arcttt-tiny"


@pytest.fixture(scope="module")
def pool():
    return recorded_training_pool(MODEL)


def test_shipped_model_folder_is_complete():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "arcttt.json", "TRAINING.md"):
        assert (MODEL / name).is_file(), name


def test_training_pool_shares_nothing_with_arc_evaluation(pool):
    evaluation = load("arc1/eval").tasks + load("arc2/eval").tasks
    assert overlap(pool, evaluation) == {}
    assert not {t.id for t in pool} & {t.id for t in evaluation}
    assert not pair_keys(pool) & pair_keys(evaluation)


def test_training_pool_shares_nothing_with_heldout_benchmark(pool):
    sys.path.insert(0, str(ROOT / "bench"))
    from accuracy import heldout_tasks

    heldout = heldout_tasks(per_family=10, seed=0, exclude_pairs=pair_keys(pool))
    assert len(heldout) == 10 * len(list_families("held-out"))
    assert overlap(pool, heldout) == {}
    generated = [t for t in pool if t.meta.get("family")]
    assert generated, "the shipped model was trained on generated tasks"
    assert all(get_family(t.meta["family"]).split == "train" for t in generated)
