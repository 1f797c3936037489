"""bench/selection_rules.py on hand-made records (no model runs)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
import selection_rules  # noqa: E402

RIGHT, WRONG, OTHER = [[1, 2]], [[2, 1]], [[3, 3]]


def cand(grid, votes, score=None):
    out = {"grid": grid, "votes": votes, "logprob": -0.1}
    if score is not None:
        out["score"] = score
    return out


def test_rules_reorder_the_recorded_candidates_and_the_ceiling_counts_the_rest():
    records = {
        # PoE put the right grid third; the votes put it first
        "votes-win": {"status": "ok",
                      "candidates": [[cand(WRONG, 2, -1.0), cand(OTHER, 1, -2.0), cand(RIGHT, 9, -3.0)]]},
        # PoE right, votes wrong
        "poe-win": {"status": "ok", "candidates": [[cand(RIGHT, 1, -1.0), cand(WRONG, 5, -2.0), cand(OTHER, 4, -9.0)]]},
        "never": {"status": "ok", "candidates": [[cand(WRONG, 1, -1.0)]]},
        "unscored": {"status": "ok", "candidates": [[cand(RIGHT, 3)]]},
        "failed": {"status": "failed", "candidates": []},
    }
    truth = {tid: [RIGHT] for tid in records}
    result = selection_rules.compare(records, truth)
    assert result["tasks"] == 3 and result["skipped"] == 2
    assert result["among_candidates"] == ["poe-win", "votes-win"]
    assert result["solved"]["recorded order"] == ["poe-win"]
    assert result["solved"]["votes"] == ["votes-win"]
    # weight 1: the right grid is second in both (-3 + ln 9 above -2 + ln 1; -1 above -9 + ln 4)
    assert result["solved"]["PoE + 1 ln(votes)"] == ["poe-win", "votes-win"]
    assert result["solved"]["PoE + 8 ln(votes)"] == ["votes-win"]  # the votes swamp the scores


def test_command_line_writes_json_and_table(tmp_path, monkeypatch):
    run = tmp_path / "run"
    (run / "results").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": "arc1/eval"}))
    record = {"task_id": "66e6c45b", "status": "ok", "candidates": [[cand([[0]], 3, -5.0)]]}
    (run / "results" / "66e6c45b.json").write_text(json.dumps(record))
    monkeypatch.setattr(selection_rules, "publish", lambda name, report, table: published.update(
        name=name, report=report, table=table))
    published = {}
    assert selection_rules.main([str(run), "--name", "x"]) == 0
    assert published["name"] == "x" and published["report"]["result"]["tasks"] == 1
    assert "| votes | 0/1 |" in published["table"]
