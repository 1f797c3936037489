import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcttt.data.tasks import MAX_SIDE, Pair, Task
from arcttt.data.transforms import (
    EXTRA_NAMES,
    SYMMETRY_NAMES,
    VOTING_NAMES,
    ColourPermutation,
    OrderPermutation,
    colour_permutation,
    compose,
    order_permutation,
    parse,
    random_colour_permutation,
)
from arcttt.errors import TransformError
from conftest import grids, tasks, tasks_equal

ASYM = np.arange(6, dtype=np.uint8).reshape(2, 3)  # [[0 1 2] [3 4 5]]: no symmetry maps it to itself


def _extra_params():
    """Strategy for the names of extra transforms with random parameters."""
    factor = st.integers(1, 3)
    return st.one_of(
        st.builds(lambda a, b: f"upscale:{a}x{b}", factor, factor),
        st.builds(lambda a, b: f"tile:{a}x{b}", factor, factor),
        st.sampled_from(["reflect:h", "reflect:v"]),
        st.builds(lambda a, b: f"roll:{a},{b}", st.integers(-40, 40), st.integers(-40, 40)),
    )


def _colour_names():
    return st.permutations(list(range(10))).map(lambda p: "colour:" + "".join(map(str, p)))


def _grid_transform_names():
    return st.one_of(st.sampled_from(SYMMETRY_NAMES), _colour_names(), _extra_params())


# ---------------------------------------------------------------- symmetries

@given(grids())
def test_symmetries_invert_exactly(g):
    for name in SYMMETRY_NAMES:
        t = parse(name)
        out = t.apply(g)
        assert out.dtype == np.uint8
        assert sorted(out.shape) == sorted(g.shape)
        assert np.array_equal(t.invert(out), g), name
        assert np.array_equal(t.apply(t.invert(g)), g), name


def test_symmetry_semantics_on_a_known_grid():
    expect = {
        "identity": [[0, 1, 2], [3, 4, 5]],
        "rot90": [[3, 0], [4, 1], [5, 2]],  # clockwise
        "rot180": [[5, 4, 3], [2, 1, 0]],
        "rot270": [[2, 5], [1, 4], [0, 3]],
        "flip_h": [[2, 1, 0], [5, 4, 3]],
        "flip_v": [[3, 4, 5], [0, 1, 2]],
        "transpose": [[0, 3], [1, 4], [2, 5]],
        "antitranspose": [[5, 2], [4, 1], [3, 0]],
    }
    assert set(expect) == set(SYMMETRY_NAMES)
    for name, want in expect.items():
        assert parse(name).apply(ASYM).tolist() == want, name
    assert set(VOTING_NAMES) <= set(SYMMETRY_NAMES) and "identity" in VOTING_NAMES


def test_symmetries_form_a_group():
    images = {name: parse(name).apply(ASYM).tobytes() + bytes(parse(name).apply(ASYM).shape) for name in SYMMETRY_NAMES}
    assert len(set(images.values())) == 8
    for a in SYMMETRY_NAMES:
        for b in SYMMETRY_NAMES:
            both = compose(parse(a), parse(b)).apply(ASYM)
            key = both.tobytes() + bytes(both.shape)
            assert key in images.values(), (a, b)


# ---------------------------------------------------------------- colours

@given(grids(), st.integers(0, 2**32 - 1), st.booleans())
def test_colour_permutations_invert(g, seed, keep_black):
    t = random_colour_permutation(np.random.default_rng(seed), keep_black)
    assert sorted(t.perm) == list(range(10))
    if keep_black:
        assert t.perm[0] == 0
        assert np.array_equal(t.apply(g) == 0, g == 0)
    out = t.apply(g)
    assert out.dtype == np.uint8 and out.shape == g.shape
    for c in range(10):
        assert np.array_equal(out == t.perm[c], g == c)
    assert np.array_equal(t.invert(out), g)
    assert np.array_equal(t.inverse().apply(out), g)


def test_colour_permutation_without_black_fixed_moves_black_sometimes():
    rng = np.random.default_rng(0)
    perms = [random_colour_permutation(rng, keep_black=False).perm for _ in range(50)]
    assert any(p[0] != 0 for p in perms)
    assert all(random_colour_permutation(rng).perm[0] == 0 for _ in range(50))


def test_bad_colour_and_order_permutations_raise():
    with pytest.raises(TransformError):
        colour_permutation([0, 1, 2])
    with pytest.raises(TransformError):
        colour_permutation([0] * 10)
    with pytest.raises(TransformError):
        order_permutation([0, 0, 1])
    with pytest.raises(TransformError):
        order_permutation([])


# ---------------------------------------------------------------- order

@given(tasks(min_k=1, max_k=7), st.integers(0, 2**32 - 1))
def test_order_permutation_on_tasks_inverts(task, seed):
    order = [int(i) for i in np.random.default_rng(seed).permutation(len(task.train))]
    t = order_permutation(order)
    out = t.apply_task(task)
    for k, i in enumerate(order):
        assert out.train[k] is task.train[i]
    assert len(out.test) == len(task.test)
    assert all(a is b for a, b in zip(out.test, task.test))
    assert tasks_equal(t.invert_task(out), task)
    assert tasks_equal(t.inverse().apply_task(out), task)
    assert parse(t.name) == t and isinstance(parse(t.name), OrderPermutation)
    # grids are untouched by an order permutation
    g = task.train[0].input
    assert np.array_equal(t.apply(g), g) and np.array_equal(t.invert(g), g)


def test_order_permutation_needs_matching_demo_count():
    task = Task("x", [Pair(ASYM, ASYM)] * 3, [Pair(ASYM)])
    with pytest.raises(TransformError):
        order_permutation([1, 0]).apply_task(task)


# ---------------------------------------------------------------- extra transforms

@given(grids(max_side=10), _extra_params())
def test_extra_transforms_invert_where_output_fits(g, name):
    t = parse(name)
    out = t.apply(g)
    if max(out.shape) > MAX_SIDE:
        return
    assert out.dtype == np.uint8
    assert np.array_equal(t.invert(out), g), name


def test_extra_transform_shapes_and_contents():
    g = np.array([[1, 2]], dtype=np.uint8)
    assert parse("upscale:2x2").apply(g).tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]
    assert parse("upscale:1x2").apply(g).tolist() == [[1, 1, 2, 2]]
    assert parse("upscale:2x1").apply(g).tolist() == [[1, 2], [1, 2]]
    assert parse("tile:1x2").apply(g).tolist() == [[1, 2, 1, 2]]
    assert parse("tile:2x1").apply(g).tolist() == [[1, 2], [1, 2]]
    assert parse("reflect:h").apply(g).tolist() == [[1, 2, 2, 1]]
    assert parse("reflect:v").apply(g).tolist() == [[1, 2], [1, 2]]
    assert parse("roll:0,1").apply(g).tolist() == [[2, 1]]
    for name in EXTRA_NAMES:
        assert parse(name).name == name


@pytest.mark.parametrize("name, grid", [
    ("upscale:1x2", [[1, 2, 3]]),  # odd width
    ("upscale:2x1", [[1], [2], [3]]),  # odd height
    ("upscale:2x2", [[1, 1], [1, 2]]),  # right size, not made of blocks
    ("upscale:1x2", [[1, 2]]),
    ("tile:1x2", [[1, 2, 3]]),
    ("tile:1x2", [[1, 2, 2, 1]]),
    ("tile:2x1", [[1], [2]]),
    ("reflect:h", [[1, 2, 3]]),
    ("reflect:h", [[1, 2, 1, 2]]),
    ("reflect:v", [[1], [2]]),
    ("reflect:v", [[1], [2], [3]]),
])
def test_extra_invert_rejects_grids_outside_the_image(name, grid):
    with pytest.raises(TransformError):
        parse(name).invert(np.array(grid, dtype=np.uint8))


@given(grids(max_side=12), st.sampled_from([n for n in EXTRA_NAMES if not n.startswith("roll")] + ["upscale:3x2", "tile:3x1"]))
def test_extra_invert_is_sound_or_raises(g, name):
    """On any grid, invert either raises TransformError or returns a preimage."""
    t = parse(name)
    try:
        small = t.invert(g)
    except TransformError:
        # then g really is not an image: the only possible preimage (strided cells for upscale,
        # the top-left block for tile/reflect) does not map onto it
        kind, arg = name.split(":")
        h, w = g.shape
        fy, fx = (1, 2) if arg == "h" else (2, 1) if arg == "v" else map(int, arg.split("x"))
        if h % fy == 0 and w % fx == 0:
            cand = g[::fy, ::fx] if kind == "upscale" else g[: h // fy, : w // fx]
            assert not np.array_equal(t.apply(cand), g)
        return
    assert np.array_equal(t.apply(small), g)


def test_random_grids_are_mostly_outside_extra_images():
    rng = np.random.default_rng(1)
    for name in ("upscale:2x2", "tile:2x2", "reflect:h", "reflect:v"):
        for _ in range(20):
            g = rng.integers(0, 10, size=(6, 6)).astype(np.uint8)
            with pytest.raises(TransformError):
                parse(name).invert(g)


# ---------------------------------------------------------------- compositions and names

@given(grids(max_side=10), st.lists(_grid_transform_names(), min_size=1, max_size=3))
def test_compositions_invert_and_names_round_trip(g, names):
    t = compose(*[parse(n) for n in names])
    assert parse(t.name) == t
    assert parse(t.name).name == t.name
    joined = parse("+".join(names))
    out = t.apply(g)
    assert np.array_equal(joined.apply(g), out)
    assert np.array_equal(t.invert(out), g)
    assert np.array_equal(parse(t.name).invert(out), g)


@given(st.one_of(_grid_transform_names(), st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)
                 .filter(lambda xs: sorted(xs) == list(range(len(xs))))
                 .map(lambda xs: "order:" + ",".join(map(str, xs)))))
def test_name_parse_name_is_identity(name):
    t = parse(name)
    assert t.name == name
    assert parse(t.name) == t
    assert hash(parse(t.name)) == hash(t)
    g = ASYM
    assert np.array_equal(parse(t.name).apply(g), t.apply(g))


def test_compose_drops_identities():
    assert compose().name == "identity"
    assert compose(parse("identity"), parse("rot90")).name == "rot90"
    assert compose(parse("rot90"), compose(parse("flip_h"), parse("identity"))).name == "rot90+flip_h"
    assert parse("rot90+flip_h").parts() == [parse("rot90"), parse("flip_h")]
    t = parse("rot90+rot90")
    assert np.array_equal(t.apply(ASYM), parse("rot180").apply(ASYM))


# ---------------------------------------------------------------- tasks

@given(tasks(max_side=10), _grid_transform_names(), st.integers(0, 2**32 - 1))
def test_apply_task_is_consistent_on_every_grid(task, name, seed):
    order = [int(i) for i in np.random.default_rng(seed).permutation(len(task.train))]
    grid_t = parse(name)
    t = compose(grid_t, order_permutation(order))
    out = t.apply_task(task)
    assert len(out.train) == len(task.train) and len(out.test) == len(task.test)
    for k, i in enumerate(order):
        assert np.array_equal(out.train[k].input, grid_t.apply(task.train[i].input))
        assert np.array_equal(out.train[k].output, grid_t.apply(task.train[i].output))
    for p, q in zip(out.test, task.test):
        assert np.array_equal(p.input, grid_t.apply(q.input))
        assert np.array_equal(p.output, grid_t.apply(q.output))
    # apply then invert every grid of the task gives the task back
    assert tasks_equal(t.invert_task(out), task)
    back = order_permutation(order).invert_task(out)
    for p, q in zip(back.train, task.train):
        assert np.array_equal(grid_t.invert(p.input), q.input)
        assert np.array_equal(grid_t.invert(p.output), q.output)


def test_apply_task_keeps_hidden_outputs_hidden():
    task = Task("x", [Pair(ASYM, ASYM)], [Pair(ASYM)])
    out = parse("rot90+colour:0987654321").apply_task(task)
    assert out.test[0].output is None
    assert np.array_equal(out.train[0].output, parse("rot90+colour:0987654321").apply(ASYM))


# ---------------------------------------------------------------- bad names

@pytest.mark.parametrize("name", [
    "", "rot45", "ROT90", "rot90+", "+rot90", "rot90++flip_h", "colour:", "colour:012345678",
    "colour:0123456788", "colour:01234567890", "order:", "order:0,0", "order:1,2", "order:a",
    "order:01,1", "upscale:", "upscale:2", "upscale:2x2x2", "upscale:0x2", "upscale:31x1",
    "upscale:axb", "tile:2", "tile:0x1", "reflect:", "reflect:x", "roll:", "roll:1", "roll:1,2,3",
    "roll:a,b", "identity:1", "colour", "eval('1')", " rot90",
])
def test_bad_names_raise_transform_error(name):
    with pytest.raises(TransformError):
        parse(name)


def test_non_string_names_raise():
    with pytest.raises(TransformError):
        parse(None)  # type: ignore[arg-type]


@given(st.text(alphabet="rotflipcolurdesxhv0123456789:,+_-", max_size=20))
def test_any_text_parses_to_its_own_name_or_raises_transform_error(text):
    try:
        t = parse(text)
    except TransformError:
        return
    assert t.name == text


def test_direct_construction_validates():
    with pytest.raises(TransformError):
        ColourPermutation((1, 2, 3))
    with pytest.raises(TransformError):
        OrderPermutation((0, 2))
