"""Shared fixtures, hypothesis strategies and the slow/gpu markers.

Bundled datasets are loaded once per session. Strategies draw a shape and a seed
and fill the grid with numpy, which is much faster than drawing 900 cells one by one.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from arcttt.data.tasks import Pair, Task

settings.register_profile(
    "arcttt", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("arcttt")


# ---------------------------------------------------------------- markers

def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--runslow"):
        skip_slow = pytest.mark.skip(reason="slow: pass --runslow to run")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(skip_slow)
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _cuda_available():
        skip_gpu = pytest.mark.skip(reason="needs CUDA")
        for item in gpu_items:
            item.add_marker(skip_gpu)


# ---------------------------------------------------------------- bundled data (once per session)

@pytest.fixture(scope="session")
def bundled():
    """name -> LoadResult of every bundled set, loaded lazily and once."""
    from arcttt.data.datasets import load_bundled

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_bundled(name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def arc1_eval(bundled):
    return bundled("arc1/eval").tasks


# ---------------------------------------------------------------- grids and tasks

def random_grid(rng: np.random.Generator, h: int, w: int, colours: int = 10) -> np.ndarray:
    return rng.integers(0, colours, size=(h, w)).astype(np.uint8)


@st.composite
def grids(draw, min_side: int = 1, max_side: int = 30):
    """A random uint8 grid of min_side..max_side per side, colours 0-9 (sometimes only a few)."""
    h = draw(st.integers(min_side, max_side))
    w = draw(st.integers(min_side, max_side))
    colours = draw(st.sampled_from([1, 2, 3, 10]))
    seed = draw(st.integers(0, 2**32 - 1))
    return random_grid(np.random.default_rng(seed), h, w, colours)


def random_task(rng: np.random.Generator, k: int, n_test: int = 1, max_side: int = 8,
                task_id: str = "t0", test_outputs: bool = True) -> Task:
    def grid():
        return random_grid(rng, int(rng.integers(1, max_side + 1)), int(rng.integers(1, max_side + 1)))

    train = [Pair(grid(), grid()) for _ in range(k)]
    test = [Pair(grid(), grid() if test_outputs else None) for _ in range(n_test)]
    return Task(task_id, train, test)


@st.composite
def tasks(draw, min_k: int = 1, max_k: int = 6, max_side: int = 10):
    k = draw(st.integers(min_k, max_k))
    n_test = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    return random_task(np.random.default_rng(seed), k, n_test, max_side)


def tasks_equal(a: Task, b: Task) -> bool:
    def pairs_equal(ps, qs):
        if len(ps) != len(qs):
            return False
        for p, q in zip(ps, qs):
            if not np.array_equal(p.input, q.input):
                return False
            if (p.output is None) != (q.output is None):
                return False
            if p.output is not None and not np.array_equal(p.output, q.output):
                return False
        return True

    return a.id == b.id and pairs_equal(a.train, b.train) and pairs_equal(a.test, b.test)


# ---------------------------------------------------------------- tiny grid LMs (engine tests)

# Engine tests run on small, busy CPUs: one torch thread avoids oversubscription, which
# otherwise makes tiny-model steps a hundred times slower.
if importlib.util.find_spec("torch") is not None:
    import torch as _torch

    _torch.set_num_threads(1)

TINY_HIDDEN = 32


def tiny_config(hidden: int = TINY_HIDDEN, layers: int = 2, max_positions: int = 1024):
    from arcttt.method.models import GridLMConfig

    return GridLMConfig(hidden_size=hidden, num_layers=layers, num_heads=2, num_kv_heads=2,
                        intermediate_size=2 * hidden, max_positions=max_positions)


def tiny_lm(seed: int = 0, hidden: int = TINY_HIDDEN, layers: int = 2, max_positions: int = 1024):
    """A randomly initialised 2-layer grid LM (a few tens of thousands of parameters), in eval mode."""
    from arcttt.method.models import build_grid_lm

    model = build_grid_lm(tiny_config(hidden, layers, max_positions), seed=seed)
    model.eval()
    return model


def loaded(model):
    """Wrap a model as models.LoadedModel on the CPU with the grid vocabulary."""
    import torch

    from arcttt.data.codec import GRID_VOCAB
    from arcttt.method.models import LoadedModel

    return LoadedModel(model, GRID_VOCAB, "<memory>", torch.device("cpu"), torch.float32)


def colour_map_task(seed: int, side: int = 1, k: int = 4, task_id: str | None = None) -> Task:
    """A recolouring task on small square grids: every cell goes through one fixed colour permutation.
    The test input only uses colours shown in the demonstrations."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(10).astype(np.uint8)
    colours = rng.choice(10, size=k, replace=False)
    ins = [np.full((side, side), c, dtype=np.uint8) if side == 1 else
           rng.choice(colours, size=(side, side)).astype(np.uint8) for c in colours]
    test = np.full((side, side), colours[int(rng.integers(k))], dtype=np.uint8) if side == 1 else ins[0][::-1].copy()
    return Task(task_id or f"cmap{seed}", [Pair(g, perm[g]) for g in ins], [Pair(test, perm[test])])


@pytest.fixture
def tiny_model():
    return tiny_lm()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A saved random tiny grid LM (hidden 64), shared by the solve tests."""
    from arcttt.method.models import save_model

    path = tmp_path_factory.mktemp("models") / "tiny"
    save_model(tiny_lm(seed=0, hidden=64, max_positions=512), path)
    return path


@pytest.fixture(scope="session")
def overfit():
    """A tiny model trained on one task's answer until it knows it by heart (read-only: do not train it)."""
    import torch

    from arcttt.data.codec import GRID_VOCAB, PAD, encode_task
    from arcttt.method.trainer import TrainConfig, train

    task = colour_map_task(11, side=3, k=3)
    model = tiny_lm(seed=0, hidden=64)
    example = encode_task(task, vocab=GRID_VOCAB, loss="query", with_answer=True)
    torch.manual_seed(0)
    res = train(model, [example], TrainConfig(lr=3e-3, max_steps=120, batch_size=1, warmup_frac=0.05),
                pad_id=GRID_VOCAB.id(PAD))
    assert res.losses[-1] < 0.05, res.losses[-5:]
    return model, task
