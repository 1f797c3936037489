import numpy as np
import pytest
from hypothesis import given

from arcttt.data.tasks import Pair, Task, grid_from_key, grid_key, grid_to_list, validate_grid
from arcttt.errors import TaskFormatError
from conftest import grids, tasks, tasks_equal


@given(grids())
def test_validate_grid_round_trip(g):
    rows = grid_to_list(g)
    assert all(type(v) is int for row in rows for v in row)
    back = validate_grid(rows)
    assert back.dtype == np.uint8 and np.array_equal(back, g)
    assert np.array_equal(validate_grid(g), g)
    assert np.array_equal(grid_from_key(grid_key(g)), g)


@pytest.mark.parametrize("obj, reason", [
    ([], "empty grid"),
    ([[]], "row 0 is empty"),
    ([[1, 2], [3]], "ragged"),
    ([[1, 10]], "outside 0-9"),
    ([[1, -1]], "outside 0-9"),
    ([[1.5]], "not an integer"),
    ([["3"]], "not an integer"),
    ([[True]], "not an integer"),
    ([[None]], "not an integer"),
    ([1, 2], "row 0 is int"),
    ("12", "expected a list"),
    (None, "expected a list"),
    (np.zeros((2, 2), dtype=float), "not an integer"),
])
def test_validate_grid_rejects(obj, reason):
    with pytest.raises(TaskFormatError, match=reason):
        validate_grid(obj, "somewhere")
    with pytest.raises(TaskFormatError, match="somewhere"):
        validate_grid(obj, "somewhere")


def test_validate_grid_accepts_30x30_and_numpy_ints():
    assert validate_grid([[9] * 30] * 30).shape == (30, 30)
    assert validate_grid([[np.int64(3), np.uint8(4)]]).tolist() == [[3, 4]]


def test_grids_over_30_load_with_a_warning_and_raise_the_task_grid_limit():
    small = Task.from_json({"train": [{"input": [[1] * 30], "output": [[2]]}], "test": [{"input": [[3]]}]}, "small")
    assert small.size_warning() is None and small.grid_limit() == 30
    wide = Task.from_json({"train": [{"input": [[1] * 35] * 2, "output": [[2] * 35]}], "test": [{"input": [[3] * 33]}]},
                          "wide", source="x.json")
    assert wide.largest_side() == 35 and wide.grid_limit() == 35
    assert "x.json: task wide: a 2x35 grid, larger than ARC's 30x30" in wide.size_warning()


@given(tasks())
def test_task_json_round_trip(task):
    back = Task.from_json(task.to_json(), task.id)
    assert tasks_equal(back, task)
    assert back.has_solutions
    hidden = task.without_solutions()
    assert not hidden.has_solutions and all(p.output is None for p in hidden.test)
    assert "output" not in hidden.to_json()["test"][0]
    assert task.has_solutions  # the original is untouched
    assert len(task.all_grids()) == 2 * (len(task.train) + len(task.test))
    assert len(hidden.all_grids()) == 2 * len(task.train) + len(task.test)


def test_pairs_compare_by_content():
    a = Pair(np.zeros((2, 2), np.uint8), np.ones((1, 1), np.uint8))
    b = Pair(np.zeros((2, 2), np.uint8), np.ones((1, 1), np.uint8))
    c = Pair(np.zeros((1, 4), np.uint8), np.ones((1, 1), np.uint8))
    assert a == b and a != c and a != Pair(a.input)
    assert len({a, b, c}) == 2


GOOD = {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]], "output": [[4]]}]}


@pytest.mark.parametrize("data, reason", [
    ([], "expected a JSON object"),
    ({"test": GOOD["test"]}, "missing key 'train'"),
    ({"train": GOOD["train"]}, "missing key 'test'"),
    ({"train": {}, "test": GOOD["test"]}, "must be a list"),
    ({"train": [], "test": GOOD["test"]}, "no demonstration pairs"),
    ({"train": GOOD["train"], "test": []}, "no test inputs"),
    ({"train": [[1]], "test": GOOD["test"]}, "train pair 0: expected an object"),
    ({"train": [{"output": [[1]]}], "test": GOOD["test"]}, "missing key 'input'"),
    ({"train": [{"input": [[1]]}], "test": GOOD["test"]}, "missing key 'output'"),
    ({"train": [{"input": [[1]], "output": None}], "test": GOOD["test"]}, "output is null"),
    ({"train": GOOD["train"], "test": [{"input": [[1, 2], [3]]}]}, "test pair 0 input: ragged"),
])
def test_from_json_rejects_with_where(data, reason):
    with pytest.raises(TaskFormatError, match=reason) as e:
        Task.from_json(data, "abc", source="file.json")
    assert "file.json" in str(e.value) and "abc" in str(e.value)


def test_from_json_test_outputs_optional_unless_required():
    data = {"train": GOOD["train"], "test": [{"input": [[3]]}]}
    t = Task.from_json(data, "x")
    assert not t.has_solutions and repr(t) == "<Task x | 1 train | 1 test>"
    with pytest.raises(TaskFormatError, match="missing key 'output'"):
        Task.from_json(data, "x", require_test_outputs=True)
    assert Task.from_json(GOOD, "x", require_test_outputs=True).test[0].output.tolist() == [[4]]
