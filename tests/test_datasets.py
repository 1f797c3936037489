import json

import pytest

from arcttt.cli import main as cli
from arcttt.data.datasets import (
    BUNDLED,
    difficulty_levels,
    load,
    load_bundled,
    load_dataset,
    load_folder,
    load_kaggle,
    load_task_file,
    read_subset_csv,
    select,
    subset,
)
from arcttt.errors import ArcTTTError, TaskFormatError

VALID = {
    "train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}, {"input": [[0]], "output": [[9]]}],
    "test": [{"input": [[5, 6]], "output": [[6, 5]]}],
}


def _with(key, value):
    d = json.loads(json.dumps(VALID))
    d[key] = value
    return d


def _bad_grid(grid):
    return _with("train", [{"input": grid, "output": [[1]]}])


# file name -> (content: dict or bytes or str, a phrase its reason must contain)
BAD_FILES = {
    "unreadable.json": (b"\xff\xfe\x00\x81\x92 not utf-8", "cannot read file"),
    "notjson.json": ("{'train': oops", "not valid JSON"),
    "no_train.json": ({"test": VALID["test"]}, "missing key 'train'"),
    "no_test.json": ({"train": VALID["train"]}, "missing key 'test'"),
    "ragged.json": (_bad_grid([[1, 2], [3]]), "ragged rows"),
    "empty_grid.json": (_bad_grid([]), "empty grid"),
    "colour10.json": (_bad_grid([[1, 10]]), "outside 0-9"),
    "float_cell.json": (_bad_grid([[1.5]]), "not an integer colour"),
    "string_cell.json": (_bad_grid([["3"]]), "not an integer colour"),
    "no_demos.json": (_with("train", []), "no demonstration pairs"),
    "no_tests.json": (_with("test", []), "no test inputs"),
}


def _write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))


@pytest.fixture
def messy_folder(tmp_path):
    root = tmp_path / "tasks"
    _write(root / "good1.json", VALID)
    for name, (content, _) in BAD_FILES.items():
        _write(root / name, content)
    _write(root / "sub" / "good1.json", VALID)  # same stem in a subfolder: duplicate task id
    _write(root / "wide.json", _with("test", [{"input": [[1] * 35] * 3, "output": [[2] * 35] * 3}]))  # loads, warns
    (root / "notes.txt").write_text("not a task, not a .json file")
    return root


def test_check_reports_every_bad_file(messy_folder, capsys):
    rc = cli.main(["check", str(messy_folder)])
    out = capsys.readouterr().out
    assert rc != 0
    lines = [l for l in out.splitlines() if l.startswith("BAD")]
    for name, (_, reason) in BAD_FILES.items():
        assert any(name in l and reason in l for l in lines), (name, reason, out)
    assert any("good1" in l and "duplicate task id" in l for l in lines), out
    assert len(lines) == len(BAD_FILES) + 1
    assert f"2 valid task(s), {len(BAD_FILES) + 1} problem(s), 1 warning(s)" in out
    assert [l for l in out.splitlines() if l.startswith("WARN")] == [
        f"WARN {messy_folder / 'wide.json'}: task wide: a 3x35 grid, larger than ARC's 30x30; loaded, and solved if it "
        "fits the model's context"]
    assert "notes.txt" not in out


def test_valid_task_loads_from_messy_folder(messy_folder):
    res = load_folder(messy_folder)
    assert {t.id for t in res.tasks} == {"good1", "wide"} and len(res.tasks) == 3
    assert len(res.errors) == len(BAD_FILES)
    deduped = load(str(messy_folder))
    assert [t.id for t in deduped.tasks] == ["good1", "wide"]
    assert len(deduped.errors) == len(BAD_FILES) + 1
    t = deduped.tasks[0]
    assert t.train[0].output.tolist() == [[4, 3], [2, 1]] and t.test[0].output.tolist() == [[6, 5]]
    with pytest.raises(TaskFormatError):
        load_dataset(str(messy_folder), strict=True)


def test_check_passes_on_valid_files(tmp_path, capsys):
    _write(tmp_path / "a.json", VALID)
    _write(tmp_path / "b.json", VALID)
    assert cli.main(["check", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    assert "2 valid task(s), 0 problem(s)" in capsys.readouterr().out
    # the same id given twice on the command line is a duplicate
    assert cli.main(["check", str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 1
    assert "duplicate task id" in capsys.readouterr().out


def test_load_task_file_and_single_file_spec(tmp_path):
    _write(tmp_path / "abc123.json", VALID)
    assert load_task_file(tmp_path / "abc123.json").id == "abc123"
    res = load(str(tmp_path / "abc123.json"))
    assert [t.id for t in res.tasks] == ["abc123"] and res.errors == []
    _write(tmp_path / "bad.json", _with("test", []))
    res = load(str(tmp_path / "bad.json"))
    assert res.tasks == [] and "no test inputs" in res.errors[0]
    with pytest.raises(ArcTTTError, match="neither a bundled dataset"):
        load(str(tmp_path / "missing"))


# ---------------------------------------------------------------- Kaggle files

def _kaggle(tmp_path, with_solutions=True):
    challenges = {
        "t1": {"train": VALID["train"], "test": [{"input": [[1]]}, {"input": [[2, 2]]}]},
        "t2": {"train": VALID["train"], "test": [{"input": [[3]]}]},
    }
    solutions = {"t1": [[[7]], [[8, 8]]], "t2": [[[9]]]}
    c = tmp_path / "arc_eval_challenges.json"
    _write(c, challenges)
    if with_solutions:
        _write(tmp_path / "arc_eval_solutions.json", solutions)
    return c


def test_kaggle_with_solutions(tmp_path):
    c = _kaggle(tmp_path)
    for res in (load_kaggle(c), load_kaggle(c, tmp_path / "arc_eval_solutions.json"), load(str(c))):
        assert res.errors == []
        by_id = {t.id: t for t in res.tasks}
        assert set(by_id) == {"t1", "t2"}
        assert all(t.has_solutions for t in res.tasks)
        assert [p.output.tolist() for p in by_id["t1"].test] == [[[7]], [[8, 8]]]


def test_kaggle_without_solutions(tmp_path):
    c = _kaggle(tmp_path, with_solutions=False)
    res = load_kaggle(c)
    assert res.errors == [] and len(res.tasks) == 2
    assert not any(t.has_solutions for t in res.tasks)
    assert [p.input.tolist() for p in res.tasks[0].test] == [[[1]], [[2, 2]]]


def test_kaggle_bad_solutions(tmp_path):
    c = _kaggle(tmp_path, with_solutions=False)
    _write(tmp_path / "arc_eval_solutions.json", {"t1": [[[7]]], "t2": [[[9]]]})  # t1 needs two outputs
    res = load_kaggle(c)
    assert [t.id for t in res.tasks] == ["t2"]
    assert len(res.errors) == 1 and "t1" in res.errors[0] and "do not match" in res.errors[0]
    # malformed challenges next to solutions are reported per task, never a crash
    _write(c, {"t1": {"test": [{"input": [[1]]}, {"input": [[2]]}]}, "t2": {"train": VALID["train"], "test": [5]}})
    _write(tmp_path / "arc_eval_solutions.json", {"t1": [[[7]], [[8]]], "t2": [[[9]]]})
    res = load_kaggle(c)
    assert res.tasks == [] and len(res.errors) == 2
    assert "missing key 'train'" in res.errors[0] and "test pair 0" in res.errors[1]
    _write(tmp_path / "arc_eval_solutions.json", [1, 2, 3])
    with pytest.raises(TaskFormatError):
        load_kaggle(c)
    _write(c, [1, 2])
    with pytest.raises(TaskFormatError):
        load_kaggle(c)


# ---------------------------------------------------------------- bundled sets and selection

@pytest.mark.parametrize("name, count", [("arc1/train", 400), ("arc1/eval", 400), ("arc2/train", 1000), ("arc2/eval", 120)])
def test_bundled_sets_load_with_expected_counts(bundled, name, count):
    res = bundled(name)
    assert len(res.tasks) == count and res.errors == []
    assert len({t.id for t in res.tasks}) == count
    assert all(t.has_solutions and t.source == name for t in res.tasks)
    assert set(BUNDLED) == {"arc1/train", "arc1/eval", "arc2/train", "arc2/eval"}


def test_unknown_bundled_set():
    with pytest.raises(ArcTTTError, match="unknown dataset"):
        load_bundled("arc3/eval")


def test_select_dev80(arc1_eval):
    ids = subset("dev80")
    assert len(ids) == 80
    assert set(ids.values()) <= {"easy", "medium", "hard", "expert"} and all(ids.values())
    chosen = select(arc1_eval, "dev80")
    assert [t.id for t in chosen] == list(ids)
    levels = difficulty_levels()
    assert set(ids) <= set(levels) and len(levels) >= 400
    assert all(levels[i] == lv for i, lv in ids.items())


def test_select_by_csv_and_ids(arc1_eval, tmp_path):
    wanted = [arc1_eval[5].id, arc1_eval[2].id, arc1_eval[9].id]
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text("task_id,level\n" + "".join(f"{i},easy\n" for i in wanted) + " ,\n")
    assert read_subset_csv(csv_path) == {i: "easy" for i in wanted}
    assert [t.id for t in select(arc1_eval, str(csv_path))] == wanted
    assert [t.id for t in select(arc1_eval, ",".join(wanted))] == wanted
    assert [t.id for t in select(arc1_eval, f" {wanted[0]} , {wanted[1]} ")] == wanted[:2]
    assert len(select(arc1_eval, None)) == 400 and len(select(arc1_eval, "")) == 400
    with pytest.raises(ArcTTTError, match="not in the dataset"):
        select(arc1_eval, f"{wanted[0]},deadbeef")
    no_col = tmp_path / "nocol.csv"
    no_col.write_text("id\n" + wanted[0] + "\n")
    with pytest.raises(ArcTTTError, match="task_id"):
        select(arc1_eval, str(no_col))
    with pytest.raises(ArcTTTError):
        subset("dev81")


def test_load_dataset_selects():
    res = load_dataset("arc1/eval", "dev80")
    assert len(res.tasks) == 80 and res.errors == []


def test_selecting_unknown_or_invalid_ids_names_them_with_the_reason(messy_folder):
    with pytest.raises(ArcTTTError) as err:
        load_dataset(str(messy_folder), "good1,ragged,deadbeef,wide")
    message = str(err.value)
    assert "2 selected task(s) cannot be solved" in message
    assert "ragged is invalid (" in message and "ragged rows" in message
    assert "not in the dataset: deadbeef" in message
    assert [t.id for t in load_dataset(str(messy_folder), "wide,good1").tasks] == ["wide", "good1"]
