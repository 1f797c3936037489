import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcttt.data.codec import sequence_length
from arcttt.data.tasks import MAX_SIDE, Pair, Task
from arcttt.data.transforms import EXTRA_NAMES, SYMMETRY_NAMES, ColourPermutation, OrderPermutation, parse
from arcttt.errors import ArcTTTError, TransformError
from arcttt.method.config import TTTDataConfig
from arcttt.method.ttt_data import base_examples, build_ttt_dataset, transform_names
from conftest import random_grid, random_task


def same_pair(p: Pair, q: Pair) -> bool:
    return np.array_equal(p.input, q.input) and np.array_equal(p.output, q.output)


def geometric(name: str) -> str:
    """The grid-shaping part of an example's transform name (colour and order removed)."""
    return "+".join(p.name for p in parse(name).parts()
                    if not isinstance(p, (ColourPermutation, OrderPermutation))) or "identity"


def ex_grids(ex):
    return [g for p in ex.demos for g in (p.input, p.output)] + [ex.query.input, ex.query.output]


# ---------------------------------------------------------------- base examples

@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_leave_one_out_structure(k):
    task = random_task(np.random.default_rng(k), k)
    cfg = TTTDataConfig(transforms="none", leave_two_out_below=0)
    base = base_examples(task, cfg)
    assert len(base) == k
    for i, ex in enumerate(base):
        assert ex.query is task.train[i]
        assert ex.demos == [d for j, d in enumerate(task.train) if j != i]
    data = build_ttt_dataset(task, cfg)
    assert len(data) == k
    for i, ex in enumerate(data):
        assert ex.transform == "identity" and ex.meta["base"] == i
        assert same_pair(ex.query, task.train[i])
        assert len(ex.demos) == k - 1
        assert all(same_pair(a, b) for a, b in zip(ex.demos, [d for j, d in enumerate(task.train) if j != i]))


def test_leave_two_out_tops_up_small_tasks():
    task = random_task(np.random.default_rng(0), 3)
    base = base_examples(task, TTTDataConfig())  # 3 < leave_two_out_below=8
    assert len(base) == 3 + 3 * 2
    l2o = base[3:]
    assert all(len(ex.demos) == 1 for ex in l2o)
    assert all(ex.query not in ex.demos for ex in base)
    pairs = {(task.train.index(ex.query), task.train.index(ex.demos[0])) for ex in l2o}
    assert len(pairs) == 6  # every (query, context) choice once
    # enough demonstrations: no top-up
    big = random_task(np.random.default_rng(1), 8)
    assert len(base_examples(big, TTTDataConfig())) == 8
    # two demonstrations cannot leave two out (no context would remain)
    assert len(base_examples(random_task(np.random.default_rng(2), 2), TTTDataConfig())) == 2


def test_end_to_end_gives_pairs_without_context():
    task = random_task(np.random.default_rng(0), 4)
    cfg = TTTDataConfig(leave_one_out=False, transforms="none")
    data = build_ttt_dataset(task, cfg)
    assert len(data) == 4
    assert all(ex.demos == [] for ex in data)
    assert all(same_pair(ex.query, p) for ex, p in zip(data, task.train))
    aug = build_ttt_dataset(task, TTTDataConfig(leave_one_out=False))
    assert len(aug) > 4 and all(ex.demos == [] for ex in aug)


def test_one_demonstration_cannot_leave_one_out():
    task = random_task(np.random.default_rng(0), 1)
    with pytest.raises(ArcTTTError):
        build_ttt_dataset(task)
    assert len(build_ttt_dataset(task, TTTDataConfig(leave_one_out=False, transforms="none"))) == 1


# ---------------------------------------------------------------- filters, dedup, cap

def test_grids_over_30_are_dropped():
    rng = np.random.default_rng(0)
    task = Task("big", [Pair(random_grid(rng, 16, 16), random_grid(rng, 16, 16)) for _ in range(3)],
                [Pair(random_grid(rng, 3, 3))])
    data = build_ttt_dataset(task, TTTDataConfig(max_tokens=None, max_examples=10_000))
    assert data
    for ex in data:
        assert all(g.shape[0] <= MAX_SIDE and g.shape[1] <= MAX_SIDE for g in ex_grids(ex))
    used = {geometric(ex.transform) for ex in data}
    # every growing transform doubles a side to 32: only the symmetries and rolls remain
    assert used == set(SYMMETRY_NAMES) | {"roll:0,1", "roll:1,0"}


def test_sequences_over_the_token_limit_are_dropped():
    task = random_task(np.random.default_rng(1), 4, max_side=8)
    unlimited = build_ttt_dataset(task, TTTDataConfig(max_tokens=None, max_examples=10_000))
    lengths = sorted(sequence_length(ex.demos, ex.query.input, ex.query.output) for ex in unlimited)
    limit = lengths[len(lengths) // 2]
    data = build_ttt_dataset(task, TTTDataConfig(max_tokens=limit, max_examples=10_000))
    assert 0 < len(data) < len(unlimited)
    assert all(sequence_length(ex.demos, ex.query.input, ex.query.output) <= limit for ex in data)


def test_no_duplicates_and_symmetric_tasks_dedup():
    task = random_task(np.random.default_rng(3), 4)
    data = build_ttt_dataset(task, TTTDataConfig(copies=3, max_examples=10_000))
    keys = [ex.key() for ex in data]
    assert len(keys) == len(set(keys))
    zeros = np.zeros((3, 3), np.uint8)
    flat = Task("flat", [Pair(zeros, zeros)] * 3, [Pair(zeros)])
    cfg = TTTDataConfig(transforms="symmetries", colour_permutation=False, order_permutation=False)
    # every symmetry of an all-black task is the same: one leave-one-out and one leave-two-out example
    assert sorted(len(ex.demos) for ex in build_ttt_dataset(flat, cfg)) == [1, 2]


def test_cap_is_respected():
    task = random_task(np.random.default_rng(4), 5)
    full = build_ttt_dataset(task, TTTDataConfig(max_examples=10_000))
    assert len(full) > 20
    capped = build_ttt_dataset(task, TTTDataConfig(max_examples=20))
    assert len(capped) == 20
    full_keys = {ex.key() for ex in full}
    assert all(ex.key() in full_keys for ex in capped)
    assert len(build_ttt_dataset(task)) <= 250


# ---------------------------------------------------------------- determinism

def fingerprint(data):
    return [(ex.transform, ex.key()) for ex in data]


def test_deterministic_per_seed():
    task = random_task(np.random.default_rng(5), 4)
    cfg = TTTDataConfig(max_examples=30)
    a = build_ttt_dataset(task, cfg, seed=1)
    assert fingerprint(a) == fingerprint(build_ttt_dataset(task, cfg, seed=1))
    assert fingerprint(a) != fingerprint(build_ttt_dataset(task, cfg, seed=2))
    other_id = Task("other", task.train, task.test)
    assert fingerprint(a) != fingerprint(build_ttt_dataset(other_id, cfg, seed=1))


# ---------------------------------------------------------------- test outputs are never read

class _Untouchable(list):
    def _boom(self, *a, **k):
        raise AssertionError("build_ttt_dataset read the task's test pairs")

    __getitem__ = __iter__ = __len__ = __contains__ = _boom


def test_never_reads_test_pairs():
    task = random_task(np.random.default_rng(6), 3, test_outputs=False)
    assert task.test[0].output is None
    assert len(build_ttt_dataset(task)) > 0
    sealed = Task(task.id, task.train, _Untouchable())
    assert fingerprint(build_ttt_dataset(sealed)) == fingerprint(build_ttt_dataset(task))


def test_test_output_never_appears():
    rng = np.random.default_rng(7)
    task = random_task(rng, 3, max_side=5)
    marker = np.full((7, 9), 5, np.uint8)
    marker[0, 0] = 3
    task = Task(task.id, task.train, [Pair(task.test[0].input, marker)])
    data = build_ttt_dataset(task, TTTDataConfig(copies=2, max_examples=10_000))
    assert data
    for ex in data:
        t = parse(ex.transform)
        for g in ex_grids(ex):
            assert g.shape not in ((7, 9), (9, 7))
            try:
                assert not np.array_equal(t.invert(g), marker)
            except TransformError:
                pass


# ---------------------------------------------------------------- transforms

def test_transforms_none_gives_identity_only():
    task = random_task(np.random.default_rng(8), 4)
    data = build_ttt_dataset(task, TTTDataConfig(transforms="none", copies=3))
    assert data and all(ex.transform == "identity" for ex in data)
    base = base_examples(task, TTTDataConfig(transforms="none"))
    for ex in data:
        b = base[ex.meta["base"]]
        assert same_pair(ex.query, b.query)
        assert all(same_pair(p, q) for p, q in zip(ex.demos, b.demos))


@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.sampled_from(["all", "symmetries", "rot90,upscale:1x2,reflect:v"]),
       st.booleans())
@settings(max_examples=25)
def test_inverting_each_example_recovers_the_demonstrations(seed, k, transforms, keep_black):
    task = random_task(np.random.default_rng(seed), k, max_side=6)
    cfg = TTTDataConfig(transforms=transforms, keep_black=keep_black)
    base = base_examples(task, cfg)
    data = build_ttt_dataset(task, cfg, seed=seed)
    assert data
    for ex in data:
        t = parse(ex.transform)
        b = base[ex.meta["base"]]
        assert np.array_equal(t.invert(ex.query.input), b.query.input)
        assert np.array_equal(t.invert(ex.query.output), b.query.output)
        orders = [p for p in t.parts() if isinstance(p, OrderPermutation)]
        order = orders[0].order if orders else tuple(range(len(ex.demos)))
        assert len(order) == len(ex.demos) == len(b.demos)
        for pos, src in enumerate(order):
            assert np.array_equal(t.invert(ex.demos[pos].input), b.demos[src].input)
            assert np.array_equal(t.invert(ex.demos[pos].output), b.demos[src].output)
        colours = [p for p in t.parts() if isinstance(p, ColourPermutation)]
        assert len(colours) == 1
        if keep_black:
            assert colours[0].perm[0] == 0
        # the same through the task-level inverse
        back = t.invert_task(Task(task.id, ex.demos, [ex.query]))
        assert all(same_pair(p, q) for p, q in zip(back.train, b.demos))
        assert same_pair(back.test[0], b.query)


def test_all_transforms_are_used():
    task = random_task(np.random.default_rng(9), 3, max_side=4)
    data = build_ttt_dataset(task, TTTDataConfig(max_examples=10_000))
    assert {geometric(ex.transform) for ex in data} == set(SYMMETRY_NAMES) | set(EXTRA_NAMES)


def test_transform_names():
    assert transform_names("all") == list(SYMMETRY_NAMES) + list(EXTRA_NAMES)
    assert transform_names("symmetries") == list(SYMMETRY_NAMES)
    assert transform_names("none") == ["identity"]
    assert transform_names("rot90, flip_h") == ["rot90", "flip_h"]
    with pytest.raises(TransformError):
        transform_names("rot90,spin")
