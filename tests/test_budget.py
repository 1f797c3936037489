"""--task-seconds and --infer-colours: one time budget per task split between the search, TTT and inference;
views decoded by priority until the budget ends."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
import pytest

from arcttt.data.codec import GRID_VOCAB
from arcttt.data.tasks import grid_key
from arcttt.errors import ArcTTTError
from arcttt.method.config import TTTConfig, TTTDataConfig
from arcttt.method.inference import InferenceConfig, augmented_views, predict
from arcttt.method.ttt import TaskAdapter
from arcttt.run.budget import INFERENCE_SHARE, SEARCH_SHARE, InferenceCost, TaskBudget, view_tokens
from conftest import colour_map_task, loaded, tiny_lm
from test_solve import dataset, solve  # noqa: F401 (the module's dataset fixture)


def test_colour_copies_come_after_the_plain_views_and_keep_black():
    task = colour_map_task(3, side=3, k=3).without_solutions()
    plain = augmented_views(task, 0, InferenceConfig(orders=2, colours=0), GRID_VOCAB, seed=1)
    more = augmented_views(task, 0, InferenceConfig(orders=2, colours=3), GRID_VOCAB, seed=1)
    assert len(more) == 4 * len(plain)
    first = [v for v in more if v.rank < 2]
    assert [v.transform.name for v in first] == [v.transform.name for v in plain]
    assert all(np.array_equal(a.prompt.ids, b.prompt.ids) for a, b in zip(first, plain))
    assert sorted({v.rank for v in more}) == list(range(8))
    zeros = np.zeros((2, 3), np.uint8)
    assert all(not v.transform.apply(zeros).any() for v in more)  # black stays black
    with pytest.raises(ArcTTTError, match="colours >= 0"):
        augmented_views(task, 0, InferenceConfig(colours=-1), GRID_VOCAB, seed=1)


def _candidates(cands) -> list:
    return sorted((c.transform, grid_key(c.grid), round(c.logprob, 4)) for c in cands)


def test_a_passed_deadline_decodes_only_the_first_rank_and_a_far_one_all_views():
    task = colour_map_task(5, side=3, k=3)
    model = tiny_lm(seed=2)
    cfg = InferenceConfig(orders=2, colours=1)
    n_views = len(augmented_views(task, 0, cfg, GRID_VOCAB, seed=0))
    n_first = sum(v.rank == 0 for v in augmented_views(task, 0, cfg, GRID_VOCAB, seed=0))
    stats: dict = {}
    [late] = predict(model, GRID_VOCAB, task, cfg, stats=stats, deadline=time.perf_counter() - 1)
    assert stats["prompts"] == n_first and stats["views_skipped"] == n_views - n_first
    assert {c.transform for c in late} <= {v.transform.name for v in augmented_views(task, 0, cfg, GRID_VOCAB, 0)
                                           if v.rank == 0}
    stats = {}
    [early] = predict(model, GRID_VOCAB, task, cfg, stats=stats, deadline=time.perf_counter() + 3600)
    assert stats["prompts"] == n_views and "views_skipped" not in stats
    [unbounded] = predict(model, GRID_VOCAB, task, cfg)
    assert _candidates(early) == _candidates(unbounded)


def test_ttt_with_max_seconds_ignores_steps_and_epochs():
    task = colour_map_task(7, side=2, k=3)
    config = TTTConfig(mode="lora", lr=1e-2, max_steps=500, epochs=50.0, lora_rank=4, lora_alpha=8,
                       data=TTTDataConfig(transforms="symmetries", max_examples=8))
    adapter = TaskAdapter(loaded(tiny_lm(seed=1)), config)
    assert adapter.adapt(task, max_seconds=1e-9).steps == 1  # the clock ends training after its first step


def test_budget_split():
    budget = TaskBudget(40.0, start=time.perf_counter())
    assert budget.search_seconds(30.0) == SEARCH_SHARE * 40 and budget.search_seconds(1.0) == 1.0
    assert 0 < budget.ttt_seconds() <= (1 - INFERENCE_SHARE) * 40
    spent = TaskBudget(40.0, start=time.perf_counter() - 100)
    assert spent.ttt_seconds() == pytest.approx(1e-3) and spent.deadline < time.perf_counter()
    cost = InferenceCost()
    assert cost.estimate(1000) is None and cost.selection() == 0
    cost.add(2.0, {"prompt_tokens": 300, "generated_tokens": 100}, 1.0)
    cost.add(2.0, {"prompt_tokens": 300, "generated_tokens": 100}, 0.0)
    assert cost.selection() == pytest.approx(0.5) and cost.estimate(1000) == pytest.approx(5.5)
    fresh = TaskBudget(40.0, start=time.perf_counter())
    # inference gets what its views are expected to cost, at most its share; TTT the rest
    assert fresh.ttt_seconds(1.0) == pytest.approx(39.0, abs=0.5)
    assert fresh.ttt_seconds(100.0) == pytest.approx((1 - INFERENCE_SHARE) * 40, abs=0.5)
    task = colour_map_task(3, side=3, k=3)
    one, more = (view_tokens(task, InferenceConfig(colours=c), 0) for c in (0, 3))
    assert more == 4 * one > 0
    for bad in (0, -5.0):
        with pytest.raises(ArcTTTError, match="--task-seconds must be positive"):
            TaskBudget.starting_now(bad)


def test_solve_with_a_task_budget_records_it(dataset, tiny_model_dir, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "budget"
    rc, summary = solve(dataset, tiny_model_dir, out, "--ttt", "full", "--ttt-lr", "3e-3", "--ttt-transforms",
                        "none", "--task-seconds", "2", "--infer-colours", "2", "--max-tasks", "2")
    assert rc == 0 and summary["tasks"] == 2
    config = json.loads((out / "config.json").read_text())
    assert config["task_seconds"] == 2 and config["inference"]["colours"] == 2
    for path in (out / "results").glob("*.json"):
        record = json.loads(path.read_text())
        assert record["status"] == "ok" and record["ttt"]["steps"] >= 1
        assert 0 < record["ttt"]["max_seconds"] < 2
    assert solve(dataset, tiny_model_dir, tmp_path / "bad", "--task-seconds", "0")[0] == 1
    assert "--task-seconds must be positive" in capsys.readouterr().err


def test_budget_curve_bench_writes_its_table_and_picture(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    import accuracy
    import budget_curve

    monkeypatch.setattr(accuracy, "RESULTS", tmp_path / "results")
    png = tmp_path / "curve.png"
    assert budget_curve.main(["--seconds", "3", "1.5", "--max-tasks", "1", "--threads", "1", "--runs",
                              str(tmp_path / "runs"), "--png", str(png), "--infer-colours", "1"]) == 0
    report = json.loads((tmp_path / "results" / "budget_curve.json").read_text())
    assert [r["task_seconds"] for r in report["rows"]] == [1.5, 3]
    assert all(r["score"]["tasks_total"] == 1 and r["median_ttt_steps"] >= 1 for r in report["rows"])
    assert "| 1.5 |" in (tmp_path / "results" / "budget_curve.md").read_text()
    assert png.stat().st_size > 5000 and png.read_bytes()[:4] == b"\x89PNG"


def test_selection_bench_scores_every_setting_after_one_ttt(tmp_path, monkeypatch, tiny_model_dir):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    import accuracy
    import selection

    monkeypatch.setattr(accuracy, "RESULTS", tmp_path / "results")
    argv = ["--model", str(tiny_model_dir), "--max-tasks", "1", "--runs", str(tmp_path / "runs")]
    assert selection.main(argv) == 0
    report = json.loads((tmp_path / "results" / "selection.json").read_text())
    assert report["finished"] == 1 and [r["setting"] for r in report["rows"]] == list(selection.SETTINGS)
    views = {r["setting"]: r["median_views"] for r in report["rows"]}
    assert views["hierarchical, 56 views (3 colours)"] == 4 * views["hierarchical, 14 views"]
    assert selection.main(argv) == 0  # resumes: the task is not trained again
    assert selection.main([*argv, "--report-only"]) == 0
    assert len(list((tmp_path / "runs").rglob("*.json"))) == 1
    few = ["--model", str(tiny_model_dir), "--max-tasks", "1", "--runs", str(tmp_path / "few"),
           "--setting", "hierarchical, 14 views", "--setting", "PoE, 56 views (3 colours)"]
    assert selection.main(few) == 0
    report = json.loads((tmp_path / "results" / "selection.json").read_text())
    assert [(r["setting"], r["tasks"]) for r in report["rows"]] == [("hierarchical, 14 views", 1),
                                                                    ("PoE, 56 views (3 colours)", 1)]


def test_runs_saved_before_infer_colours_load_as_the_views_they_decoded():
    import dataclasses

    from arcttt.run.config import SolveConfig

    old = dataclasses.asdict(SolveConfig())
    old["inference"].pop("colours")
    old.pop("task_seconds")
    old.pop("voting")
    old["inference"]["colour_permutation"] = False
    loaded_old = SolveConfig.from_dict(old)
    assert (loaded_old.inference.colours, loaded_old.voting) == (0, "hierarchical")  # no copies, the paper's vote
    assert loaded_old.result_affecting() == SolveConfig(inference=InferenceConfig(colours=0),
                                                        voting="hierarchical").result_affecting()
    old["inference"]["colour_permutation"] = True
    with pytest.raises(ArcTTTError, match="--infer-colours"):
        SolveConfig.from_dict(old)


def test_defaults_are_select40s_choice_and_a_search_run_resumes_under_other_inference(tmp_path):
    from arcttt.run.config import SolveConfig
    from arcttt.run.run_dir import RunDir

    assert (SolveConfig().voting, SolveConfig().inference.colours) == ("poe", 3)
    paper = dict(inference=InferenceConfig(colours=0), voting="hierarchical")
    search_run, ttt_run = RunDir(tmp_path / "search"), RunDir(tmp_path / "ttt")
    search_run.prepare(SolveConfig(solver="search", **paper))
    search_run.prepare(SolveConfig(solver="search"))  # the search reads no inference or voting setting
    ttt_run.prepare(SolveConfig(solver="ttt", **paper))
    with pytest.raises(ArcTTTError, match="inference.colours: 0 -> 3.*voting: 'hierarchical' -> 'poe'"):
        ttt_run.prepare(SolveConfig(solver="ttt"))
    with pytest.raises(ArcTTTError, match="search.seconds"):
        search_run.prepare(SolveConfig(solver="search", search=replace(SolveConfig().search, seconds=3.0)))
