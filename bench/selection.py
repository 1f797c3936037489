"""Views and selection after TTT: each task is test-time trained once, then decoded and voted under
every setting below, so the settings differ only in inference (same adapter, same seed).

    python bench/selection.py --suite select40 --workers 2

Settings: hierarchical voting (the paper), flat voting, product of experts (PoE: hierarchical voting's
shortlist rescored under every view), DFS sampling with hierarchical voting or PoE, and more views
(colour-permuted copies, more demonstration orders). Choose defaults on select40, never on dev80;
confirm them on dev80 and on the held-out generator families (`--suite heldout`, 2 tasks per family).
Per-task results are kept under --runs, so an interrupted run resumes; the table goes to
bench/results/<name>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shlex
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from accuracy import commit, heldout_folder, publish, suite_tasks
from arcttt.data.datasets import load_dataset
from arcttt.method.config import InferenceConfig
from arcttt.models import DEFAULT_MODEL

PLAIN = InferenceConfig(colours=0)
"""The paper's 14 views (7 transforms x 2 demonstration orders), the base of every setting."""
SETTINGS: dict[str, tuple[InferenceConfig, str]] = {
    "hierarchical, 14 views": (PLAIN, "hierarchical"),
    "flat, 14 views": (PLAIN, "flat"),
    "PoE, 14 views": (PLAIN, "poe"),
    "DFS + hierarchical, 14 views": (replace(PLAIN, sampler="dfs"), "hierarchical"),
    "DFS + PoE, 14 views": (replace(PLAIN, sampler="dfs"), "poe"),
    "hierarchical, 56 views (3 colours)": (replace(PLAIN, colours=3), "hierarchical"),
    "PoE, 56 views (3 colours)": (replace(PLAIN, colours=3), "poe"),
    "hierarchical, 112 views (4 orders, 3 colours)": (replace(PLAIN, orders=4, colours=3), "hierarchical"),
}
"""name -> (inference config, voting); settings sharing an inference config share its decodes."""

_solver = None


def _init(model: str, seed: int, threads: int) -> None:
    global _solver
    from arcttt.run.config import SolveConfig
    from arcttt.run.solver import Solver

    _solver = Solver(SolveConfig(solver="ttt", model=model, seed=seed, threads=threads, device="cpu"))


def evaluate(task_json: dict, task_id: str, seed: int, poe_candidates: int, names: list[str]) -> dict:
    """Train once on the task's demonstrations, then score every setting against the held-back outputs."""
    import numpy as np

    from arcttt.data.tasks import Task
    from arcttt.method.inference import predict
    from arcttt.method.selection import choose

    task = Task.from_json(task_json, task_id)
    visible = task.without_solutions()
    truths = [p.output for p in task.test]
    start = time.perf_counter()
    report = _solver.adapter.adapt(visible)
    out = {"task_id": task_id, "ttt_s": round(time.perf_counter() - start, 2), "ttt_steps": report.steps,
           "settings": {}}
    decoded: dict[str, tuple] = {}
    with _solver.adapter.folded() as model:
        for name in names:
            inference, voting = SETTINGS[name]
            key = json.dumps(inference.__dict__, sort_keys=True, default=str)
            t0 = time.perf_counter()
            if key not in decoded:
                stats: dict = {}
                decoded[key] = (predict(model, _solver.loaded.vocab, visible, inference, seed, stats), stats,
                                time.perf_counter() - t0)
            per_test, stats, decode_s = decoded[key]
            t1 = time.perf_counter()
            chosen = [choose(model, _solver.loaded.vocab, visible, i, c, voting, poe_candidates, inference.transforms)
                      for i, c in enumerate(per_test)]
            right = [any(a.shape == t.shape and np.array_equal(a, t) for a in r.attempts[:2])
                     for r, t in zip(chosen, truths)]
            out["settings"][name] = {"outputs_correct": sum(right), "solved": all(right),
                                     "views": stats.get("prompts", 0),
                                     "seconds": round(decode_s + time.perf_counter() - t1, 2)}
    _solver.adapter.end_task()
    return out


def _evaluate_entry(item):
    task_json, task_id, seed, poe_candidates, names = item
    try:
        return evaluate(task_json, task_id, seed, poe_candidates, names)
    except Exception as e:  # one bad task never stops the bench: it counts as unsolved everywhere
        return {"task_id": task_id, "error": f"{type(e).__name__}: {e}", "settings": {}}


def markdown(report: dict) -> str:
    done = f"{report['tasks']} tasks" if report["finished"] == report["tasks"] else \
        f"{report['finished']} of {report['tasks']} tasks finished so far"
    lines = [f"Model `{report['model']}`, suite {report['suite']} ({done}), commit "
             f"`{report['commit']}`, {report['date']}; TTT once per task (median {report['median_ttt_s']} s), "
             "then each setting's inference and selection", "",
             "| setting | tasks solved | outputs correct | median views | median s (inference + selection) |",
             "| --- | --- | --- | --- | --- |"]
    for row in report["rows"]:
        lines.append(f"| {row['setting']} | {row['solved']}/{row['tasks']} | {row['outputs_correct']}/"
                     f"{row['outputs']} | {row['median_views']} | {row['median_seconds']} |")
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--suite", default="select40", choices=["select40", "dev80", "heldout", "arc1-eval", "arc2-eval"])
    p.add_argument("--heldout-per-family", type=int, default=2, help="tasks per held-out generator family")
    p.add_argument("--max-tasks", type=int, default=None)
    p.add_argument("--workers", type=int, default=1, help="local processes, one torch thread each")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--poe-candidates", type=int, default=6)
    p.add_argument("--setting", action="append", choices=list(SETTINGS), default=None,
                   help="score only these settings (repeatable; default all): fewer decodes on tasks not yet run")
    p.add_argument("--runs", default="runs/bench-selection")
    p.add_argument("--report-only", action="store_true",
                   help="write the table from the records so far, running no task (a run spanning sessions)")
    p.add_argument("--name", default="selection")
    args = p.parse_args(argv)
    code = commit()
    if args.suite == "heldout":  # the held-out families' tasks of bench/accuracy.py, kept beside the records
        dataset, ids = str(heldout_folder(Path(args.runs), args.model, args.heldout_per_family, args.seed)), None
    else:
        dataset, ids = suite_tasks(args.suite)
    tasks = load_dataset(dataset, ids).tasks[: args.max_tasks]
    folder = Path(args.runs) / Path(args.model).name / args.suite
    folder.mkdir(parents=True, exist_ok=True)
    done = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
    names = [n for n in SETTINGS if not args.setting or n in args.setting]
    todo = [(t.to_json(), t.id, args.seed, args.poe_candidates, names) for t in tasks
            if t.id not in done and not args.report_only]
    if todo:  # the model loads in each worker: none needed when every task has its record
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(max(1, args.workers), initializer=_init, initargs=(args.model, args.seed, 1)) as pool:
            for n, result in enumerate(pool.imap_unordered(_evaluate_entry, todo), 1):
                if "error" not in result:
                    tmp = folder / f"{result['task_id']}.json.tmp"
                    tmp.write_text(json.dumps(result))
                    tmp.replace(folder / f"{result['task_id']}.json")
                    done[result["task_id"]] = result
                print(f"[{n}/{len(todo)}] {result['task_id']}: "
                      f"{result.get('error') or sum(s['solved'] for s in result['settings'].values())} settings solve it",
                      flush=True)
    results = [done[t.id] for t in tasks if t.id in done]
    rows = []
    outputs = {t.id: len(t.test) for t in tasks}
    for name in SETTINGS:
        ran = [r for r in results if name in r["settings"]]  # a task run with --setting holds only those
        per = [r["settings"][name] for r in ran]
        if not per:
            continue
        rows.append({"setting": name, "tasks": len(ran), "outputs": sum(outputs[r["task_id"]] for r in ran),
                     "solved": sum(s["solved"] for s in per),
                     "solved_ids": [r["task_id"] for r in ran if r["settings"][name]["solved"]],
                     "outputs_correct": sum(s["outputs_correct"] for s in per),
                     "median_views": statistics.median(s["views"] for s in per),
                     "median_seconds": round(statistics.median(s["seconds"] for s in per), 2)})
    report = {"model": args.model, "suite": args.suite, "commit": code, "date": time.strftime("%Y-%m-%d %H:%M"),
              "tasks": len(tasks), "finished": len(results), "outputs": sum(len(t.test) for t in tasks),
              "median_ttt_s": round(statistics.median(r["ttt_s"] for r in results), 1) if results else None,
              "command": "python bench/selection.py " + shlex.join(sys.argv[1:] if argv is None else argv),
              "rows": rows}
    publish(args.name, report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
