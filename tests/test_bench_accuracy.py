"""bench/accuracy.py's diagnostics, on hand-made run records (no model runs)."""

import json
import sys
from pathlib import Path

from arcttt.data.tasks import Task

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
import accuracy  # noqa: E402

RIGHT, WRONG, OTHER = [[1, 2]], [[2, 1]], [[3, 3]]


def task(task_id: str, answers: list) -> Task:
    data = {"train": [{"input": [[0, 1]], "output": [[1, 0]]}],
            "test": [{"input": [[0, 2]], "output": a} for a in answers]}
    return Task.from_json(data, task_id)


def write_record(run: Path, task_id: str, attempts: list, ranked: list, status: str = "ok") -> None:
    (run / "results").mkdir(parents=True, exist_ok=True)
    record = {"task_id": task_id, "status": status, "attempts": attempts,
              "candidates": [[{"grid": g, "votes": 1} for g in per_test] for per_test in ranked]}
    (run / "results" / f"{task_id}.json").write_text(json.dumps(record))


def test_candidate_recall_tells_generation_from_selection(tmp_path):
    tasks = [task("chosen", [RIGHT]), task("ranked-low", [RIGHT]), task("never", [RIGHT]),
             task("half", [RIGHT, OTHER]), task("failed", [RIGHT])]
    write_record(tmp_path, "chosen", [[RIGHT, WRONG]], [[RIGHT, WRONG]])
    write_record(tmp_path, "ranked-low", [[WRONG, OTHER]], [[WRONG, OTHER, RIGHT]])
    write_record(tmp_path, "never", [[WRONG]], [[WRONG, OTHER]])
    write_record(tmp_path, "half", [[RIGHT], [WRONG]], [[RIGHT], [WRONG]])  # second answer never generated
    write_record(tmp_path, "failed", [], [], status="error")
    assert accuracy.candidate_recall(tmp_path, tasks, solved=["chosen"]) == {"among_candidates": 2, "chosen": 1}


def test_candidate_row_in_the_table():
    score = {"tasks_correct": 1, "tasks_total": 5, "task_accuracy": 0.2, "output_accuracy": 0.2}
    report = {"model": "m", "commit": "c", "date": "d", "command": "cmd",
              "rows": [{"suite": "dev80", "setting": "TTT + voting", "score": score, "seconds_per_task": 1.0,
                        "candidates": {"among_candidates": 2, "chosen": 1}}]}
    assert "| dev80 | its candidates | every answer among the top 10 on 2 tasks, chosen on 1 |" \
        in accuracy.markdown(report)
