"""Program search: primitives, program text, the search's guarantees and budget, and its CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcttt.cli.main import main
from arcttt.data.tasks import Pair, Task
from arcttt.dsl import grid_ops, parts
from arcttt.dsl.reject import Reject
from arcttt.errors import ArcTTTError
from arcttt.search import engine
from arcttt.search.config import SearchConfig
from arcttt.search.learners import recolour
from arcttt.search.ops import Step, family_spaces
from arcttt.search.program import Call, X, parse, run
from arcttt.train.generators import generate_task
from conftest import grids

# ---------------------------------------------------------------- primitives


@given(grids())
def test_symmetries_invert(g):
    assert np.array_equal(grid_ops.flip(grid_ops.flip(g, "h"), "h"), g)
    assert np.array_equal(grid_ops.flip(grid_ops.flip(g, "v"), "v"), g)
    for k in (1, 2, 3):
        assert np.array_equal(grid_ops.rotate(grid_ops.rotate(g, k), 4 - k), g)
    for diag in ("main", "anti"):
        assert np.array_equal(grid_ops.transpose(grid_ops.transpose(g, diag), diag), g)


@given(grids(max_side=10), st.integers(2, 3))
def test_scale_down_undoes_scale_up(g, f):
    assert np.array_equal(grid_ops.scale_down(grid_ops.scale_up(g, f), f), g)


@given(grids(max_side=12), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
def test_crop_after_pad_is_the_identity(g, top, bottom, left, right):
    g = np.where(g == 0, 1, g).astype(np.uint8)  # no background inside: the crop is the whole grid
    padded = np.pad(g, ((top, bottom), (left, right)))
    assert np.array_equal(grid_ops.crop_content(padded), g)


@given(grids(), st.permutations(range(10)), st.permutations(range(10)))
def test_colour_maps_compose(g, a, b):
    first, second = dict(enumerate(a)), dict(enumerate(b))
    composed = {c: second[first[c]] for c in range(10)}
    assert np.array_equal(recolour(recolour(g, first), second), recolour(g, composed))


@given(grids(max_side=8))
def test_tilings_and_halves(g):
    assert np.array_equal(grid_ops.half(grid_ops.mirror_concat(g, "right"), "left"), g)
    assert np.array_equal(grid_ops.half(grid_ops.mirror_concat(g, "below"), "top"), g)
    assert np.array_equal(grid_ops.tile_2x2(g, "repeat"), grid_ops.tile(g, 2, 2))
    k = grid_ops.kaleidoscope(g) if g.shape[0] == g.shape[1] else None
    if k is not None:
        assert np.array_equal(np.rot90(k), k)  # four-fold symmetric


def test_gravity_keeps_every_cell_and_parts_combine():
    g = np.array([[1, 0, 2], [0, 0, 0], [0, 3, 0]], np.uint8)
    down = grid_ops.fall(g, "down")
    assert down.tolist() == [[0, 0, 0], [0, 0, 0], [1, 3, 2]]
    assert sorted(grid_ops.fall(g, "left").ravel().tolist()) == sorted(g.ravel().tolist())
    two = np.array([[1, 0, 5, 1, 1], [0, 1, 5, 0, 1]], np.uint8)  # two 2x2 parts split by a column of 5
    assert parts.combine_parts(two, "and").tolist() == [[10, 0], [0, 10]]
    assert parts.combine_parts(two, "xor").tolist() == [[0, 10], [0, 0]]
    with pytest.raises(Reject):
        parts.split_parts(np.array([[1, 2], [3, 4]], np.uint8))


# ---------------------------------------------------------------- program text


@given(st.sampled_from(["h", "v"]), st.integers(1, 3), st.dictionaries(st.integers(0, 10), st.integers(0, 9),
                                                                   min_size=1, max_size=4))
def test_program_text_parses_back_into_the_same_program(axis, k, mapping):
    family_spaces()  # registers the family primitives
    p = Call("recolour", Call("rotate", Call("flip", X, (), (("axis", axis),)), (), (("k", k),)), (mapping,))
    text = str(p)
    assert parse(text) == p and str(parse(text)) == text
    g = np.arange(12, dtype=np.uint8).reshape(3, 4) % 10
    assert np.array_equal(run(parse(text), g), run(p, g))


@pytest.mark.parametrize("text", ["__import__('os')", "flip(y)", "nope(x)", "flip(x, axis=open('f'))", "flip(", "x + 1"])
def test_program_text_that_is_not_a_program_is_refused(text):
    with pytest.raises(ArcTTTError, match="not a program"):
        parse(text)


# ---------------------------------------------------------------- the search


def solved(task: Task, result) -> bool:
    return bool(result.programs) and all(task.test[i].output.tolist() in result.attempts(i) for i in range(len(task.test)))


COVERED = sorted(family_spaces())
QUICK = COVERED[::3]  # a third of the covered train families in the default suite; all of them with --runslow


def check_generated(names: list[str], seconds: float) -> None:
    right, wrong = [], []
    for i, name in enumerate(names):
        task = generate_task(name, 100 + i, 0.3)
        result = engine.search(task.without_solutions(), SearchConfig(seconds=seconds))
        (right if solved(task, result) else wrong).append(name)
        for found in result.programs:  # every accepted program reproduces every demonstration
            assert all(np.array_equal(run(parse(found.program), p.input), p.output) for p in task.train)
    assert len(right) >= 0.8 * len(names), f"missed: {wrong}"


def test_search_solves_generated_tasks_of_the_covered_families():
    assert len(COVERED) >= 50 and {"flip", "gravity", "crop_largest", "fill_enclosed", "symmetry_complete"} <= set(
        COVERED)
    check_generated(QUICK, seconds=2.0)


@pytest.mark.slow
def test_search_solves_generated_tasks_of_every_covered_family():
    check_generated(COVERED, seconds=3.0)


def test_no_program_for_demonstrations_no_rule_explains():
    rng = np.random.default_rng(0)
    train = [Pair(rng.integers(0, 10, (4, 4)).astype(np.uint8), rng.integers(0, 10, (3, 5)).astype(np.uint8))
             for _ in range(3)]
    task = Task("noise", train, [Pair(rng.integers(0, 10, (4, 4)).astype(np.uint8))])
    result = engine.search(task, SearchConfig(seconds=2.0, max_states=3000))
    assert result.programs == []


def test_the_search_never_sees_test_outputs(monkeypatch):
    task = generate_task("flip", 3, 0.2)
    seen = []
    original = engine._Search.__init__

    def spy(self, t, config):
        original(self, t, config)
        seen.append(self.task)

    monkeypatch.setattr(engine._Search, "__init__", spy)
    result = engine.search(task, SearchConfig(seconds=2.0))
    assert solved(task, result)
    assert seen and all(p.output is None for p in seen[0].test)


def test_the_state_budget_holds_and_is_deterministic():
    task = generate_task("recolour_by_size", 5, 0.6)
    a = engine.search(task, SearchConfig(seconds=60, max_states=700, max_depth=3))
    b = engine.search(task, SearchConfig(seconds=60, max_states=700, max_depth=3))
    assert a.stopped == "states" and a.states == 700
    assert [f.program for f in a.programs] == [f.program for f in b.programs]


def test_the_time_budget_holds(monkeypatch):
    """The clock is simulated (one millisecond per look), so the check does not depend on this machine."""
    clock = iter(range(10**9))
    monkeypatch.setattr(engine, "clock", lambda: next(clock) / 1000)
    task = generate_task("recolour_by_size", 5, 0.6)
    result = engine.search(task, SearchConfig(seconds=0.5, max_states=10**6, max_depth=3))
    assert result.stopped == "time" and 0.5 <= result.seconds <= 0.55


# ---------------------------------------------------------------- arcttt search


def test_search_command_prints_programs_and_json(tmp_path, capsys):
    task = generate_task("flip", 7, 0.2)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(task.to_json()))
    assert main(["search", str(path), "--search-seconds", "2"]) == 0
    out = capsys.readouterr().out
    assert "t: " in out and "(right)" in out and "flip(x, axis=" in out
    assert main(["search", str(path), "--json", "--search-seconds", "2"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["task_id"] == "t" and record["correct"] == [True] and record["programs"][0]["cost"] == 1


def test_search_command_names_a_malformed_task(tmp_path, capsys):
    (tmp_path / "bad.json").write_text(json.dumps({"train": [{"input": [[1, 2], [3]], "output": [[1]]}],
                                                   "test": [{"input": [[1]]}]}))
    assert main(["search", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "bad.json" in err and "ragged rows" in err


def test_search_step_is_a_primitive_call():
    family_spaces()
    step = Step("flip", (("axis", "h"),))
    assert str(step.wrap(X)) == "flip(x, axis='h')"
    g = np.array([[1, 2]], np.uint8)
    assert step.apply(g).tolist() == [[2, 1]]
