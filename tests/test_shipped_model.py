"""The shipped models never trained on anything the benchmarks evaluate.

For each model shipped in the package (arcttt.models), rebuilds the exact training pool from the
configuration recorded there (every earlier stage is nested in its arcttt.json) and checks it against ARC-AGI-1/2 evaluation and the generator's
held-out benchmark tasks: no shared task id, no identical (input, output) pair.
"""

import sys
from pathlib import Path

import pytest

from arcttt.data.datasets import load, load_dataset
from arcttt.models import DEFAULT_MODEL, resolve_model, shipped_models
from arcttt.run.config import SolveConfig
from arcttt.train.finetune import overlap, pair_keys, recorded_training_pool
from arcttt.train.generators import get_family, list_families

ROOT = Path(__file__).resolve().parents[1]
MODELS = list(shipped_models().values())


def test_the_default_model_is_the_only_one_shipped():
    assert list(shipped_models()) == [DEFAULT_MODEL] == [SolveConfig().model]
    assert resolve_model(DEFAULT_MODEL) == MODELS[0]


@pytest.fixture(scope="module", params=MODELS, ids=lambda p: p.name)
def model(request):
    return request.param




@pytest.fixture(scope="module")
def pool(model):
    return recorded_training_pool(model)  # rebuilt once per process (bench/accuracy.py's held-out suite reuses it)


def test_shipped_model_folder_is_complete(model):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "arcttt.json", "TRAINING.md"):
        assert (model / name).is_file(), name


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


def test_selection_suite_is_outside_dev80():
    """bench/accuracy.py's select40 suite chooses settings; it must not be dev80, which reports them."""
    sys.path.insert(0, str(ROOT / "bench"))
    from accuracy import selection_task_ids

    ids = selection_task_ids(40)
    assert len(set(ids)) == 40
    assert not set(ids) & {t.id for t in load_dataset("arc1/eval", "dev80").tasks}
    assert set(ids) <= {t.id for t in load("arc1/eval").tasks}
