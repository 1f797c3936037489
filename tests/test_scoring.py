import json

import numpy as np
import pytest

from arcttt.data.tasks import Pair, Task, grid_to_list
from arcttt.errors import SubmissionError
from arcttt.method.scoring import (
    build_submission,
    format_score,
    ordered_levels,
    read_submission,
    score_submission,
    submission_entry,
    write_json_atomic,
)


def true_attempts(tasks):
    return {t.id: [[p.output] for p in t.test] for t in tasks}


def test_true_outputs_score_100_percent(arc1_eval, tmp_path):
    sub = build_submission(arc1_eval, true_attempts(arc1_eval))
    assert set(sub) == {t.id for t in arc1_eval}
    for t in arc1_eval:
        assert len(sub[t.id]) == len(t.test)
        assert all(set(e) == {"attempt_1", "attempt_2"} for e in sub[t.id])
    path = tmp_path / "submission.json"
    write_json_atomic(path, sub)
    s = score_submission(read_submission(path), arc1_eval)
    assert s.tasks_total == 400 and s.tasks_correct == 400
    assert s.outputs_total == sum(len(t.test) for t in arc1_eval) > 400  # some tasks have several test inputs
    assert s.outputs_correct == s.outputs_total
    assert s.task_accuracy == 1.0 and s.output_accuracy == 1.0
    assert s.kaggle_score == pytest.approx(400)
    assert s.warnings == []
    assert len(s.solved) == 400
    d = s.to_dict()
    assert d["task_accuracy"] == 1.0 and json.loads(json.dumps(d))["output_accuracy"] == 1.0


def test_empty_submission_scores_zero_with_warnings(arc1_eval):
    s = score_submission({}, arc1_eval)
    assert s.tasks_correct == 0 and s.outputs_correct == 0 and s.kaggle_score == 0
    assert s.task_accuracy == 0.0 and s.output_accuracy == 0.0
    assert len(s.warnings) == 400 and all("missing" in w for w in s.warnings)


def test_build_submission_falls_back_to_test_input(arc1_eval):
    tasks = arc1_eval[:3]
    sub = build_submission(tasks, {})
    for t in tasks:
        for e, p in zip(sub[t.id], t.test):
            assert e["attempt_1"] == e["attempt_2"] == grid_to_list(p.input)
    e = submission_entry([np.array([[1]], np.uint8)], np.array([[0]], np.uint8))
    assert e == {"attempt_1": [[1]], "attempt_2": [[1]]}
    e = submission_entry([np.array([[1]], np.uint8), np.array([[2]], np.uint8), np.array([[3]], np.uint8)],
                         np.array([[0]], np.uint8))
    assert e == {"attempt_1": [[1]], "attempt_2": [[2]]}


def _task(tid, outputs):
    return Task(tid, [Pair(np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8))],
                [Pair(np.zeros((2, 2), np.uint8), np.array(o, np.uint8)) for o in outputs])


def test_malformed_entries_score_as_wrong_with_warnings():
    right = [[1, 2], [3, 4]]
    tasks = [_task(f"t{i}", [right]) for i in range(8)]
    good = {"attempt_1": right, "attempt_2": right}
    sub = {
        "t0": good,  # not a list
        "t1": [[right]],  # entry not a dict
        "t2": [{"attempt_1": right}],  # missing attempt_2
        "t3": [{"attempt_1": [[1, 2], [3]], "attempt_2": right}],  # ragged grid
        "t4": [{"attempt_1": [[1, 2], [3, 11]], "attempt_2": right}],  # value 11
        "t5": [{"attempt_1": [[1, 2], [3, 4.0]], "attempt_2": "grid"}],  # not integers, not a grid
        "t6": [good],  # the only well-formed entry
        "t7": [{"attempt_1": [[0, 0], [0, 0]], "attempt_2": [[1, 2, 3, 4]]}],  # well-formed but wrong
    }
    s = score_submission(sub, tasks)
    assert s.solved == ["t6"]
    assert s.outputs_correct == 1 and s.tasks_correct == 1
    for tid in ("t0", "t1", "t2", "t3", "t4", "t5"):
        assert any(f"task {tid}" in w for w in s.warnings), tid
    assert not any("task t6" in w or "task t7" in w for w in s.warnings)
    assert any("ragged" in w for w in s.warnings) and any("outside 0-9" in w for w in s.warnings)
    assert any("missing attempt_2" in w for w in s.warnings)


def test_wrong_number_of_entries_warns():
    t = _task("x", [[[1]], [[2]]])
    s = score_submission({"x": [{"attempt_1": [[1]], "attempt_2": [[1]]}]}, [t])
    assert s.outputs_correct == 1 and s.tasks_correct == 0
    assert any("1 entries for 2 test inputs" in w for w in s.warnings)


def test_multi_output_partial_credit():
    tasks = [_task("a", [[[1]], [[2]], [[3]], [[4]]]), _task("b", [[[5]]])]
    sub = {
        "a": [{"attempt_1": [[9]], "attempt_2": [[1]]},  # right on attempt 2
              {"attempt_1": [[2]], "attempt_2": [[0]]},  # right on attempt 1
              {"attempt_1": [[0]], "attempt_2": [[0]]},
              {"attempt_1": [[4, 4]], "attempt_2": [[0]]}],
        "b": [{"attempt_1": [[5]], "attempt_2": [[5]]}],
    }
    s = score_submission(sub, tasks, levels={"a": "hard", "b": "easy"})
    assert s.outputs_total == 5 and s.outputs_correct == 3
    assert s.kaggle_score == pytest.approx(0.5 + 1.0)
    assert s.tasks_total == 2 and s.tasks_correct == 1 and s.solved == ["b"]
    assert s.output_accuracy == pytest.approx(0.6) and s.task_accuracy == pytest.approx(0.5)
    assert s.per_level == {"hard": {"tasks": 1, "solved": 0}, "easy": {"tasks": 1, "solved": 1}}
    text = format_score(s)
    assert "1/2" in text and "3/5" in text and "1.50" in text and "hard" in text


def test_levels_are_listed_easiest_first():
    per_level = {k: {"tasks": 1, "solved": 0} for k in ("medium", "expert", "easy", "hard", "custom")}
    assert ordered_levels(per_level) == ["easy", "medium", "hard", "expert", "custom"]


def test_scoring_needs_solutions():
    t = Task("x", [Pair(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8))], [Pair(np.zeros((1, 1), np.uint8))])
    with pytest.raises(SubmissionError):
        score_submission({}, [t])


def test_write_json_atomic_leaves_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "out.json"
    write_json_atomic(path, {"a": [1, 2]})
    write_json_atomic(path, {"b": 3})  # overwrite
    assert json.loads(path.read_text()) == {"b": 3}
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]
    with pytest.raises(TypeError):
        write_json_atomic(path, {"c": object()})  # not serialisable: fails mid-write
    assert json.loads(path.read_text()) == {"b": 3}  # the old file is untouched
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_read_submission_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SubmissionError):
        read_submission(bad)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(SubmissionError):
        read_submission(binary)
    with pytest.raises(SubmissionError):
        read_submission(tmp_path / "missing.json")
    lst = tmp_path / "list.json"
    lst.write_text("[1, 2]")
    with pytest.raises(SubmissionError):
        read_submission(lst)
    ok = tmp_path / "ok.json"
    ok.write_text('{"x": []}')
    assert read_submission(ok) == {"x": []}
