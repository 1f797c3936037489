"""Accuracy harness: fine-tuned only vs augmented voting vs TTT + voting, like the paper's tables.

    python bench/accuracy.py --suite dev80 --suite heldout          # the default model
    python bench/accuracy.py --suite heldout --ablations
    python bench/accuracy.py --model MODEL_FOLDER --suite select40  # choosing settings or models

Suites: dev80 (the paper's 80 ARC-AGI-1 evaluation tasks), heldout (the generator's held-out
families), select40 (the 40 shortest ARC-AGI-1 evaluation tasks outside dev80: for choosing
settings and models without looking at dev80), and whole sets: arc1-eval (400), arc2-eval (120),
arc1-train (400; the default model trained on it, so only search numbers mean anything there).

Each (suite, setting) is one `arcttt solve` run directory under --runs (so an
interrupted benchmark resumes); the results go to bench/results/accuracy.json
and accuracy.md with pass@2 per task and per output, per level, time per task,
the model and the commit.
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from arcttt.data.datasets import load_dataset
from arcttt.data.tasks import grid_to_list
from arcttt.method.config import TTT_MODES, InferenceConfig, TTTConfig
from arcttt.method.scoring import ordered_levels, write_json_atomic
from arcttt.models import DEFAULT_MODEL
from arcttt.run.combine import combine
from arcttt.run.config import ExecutorConfig, SolveConfig
from arcttt.run.ensemble import ttt_ranking
from arcttt.run.run_dir import RunDir
from arcttt.run.solve import solve_dataset
from arcttt.search.config import SearchConfig
from arcttt.train.finetune import pair_keys, recorded_training_pool
from arcttt.train.generators import generate_task, list_families

RESULTS = Path(__file__).parent / "results"
WHOLE_SETS = {"arc1-eval": "arc1/eval", "arc2-eval": "arc2/eval", "arc1-train": "arc1/train"}
"""Whole bundled sets as suites (arc1-train is search's design set; the shipped model trained on it)."""


ENSEMBLE = "ensemble"
"""Not a run of its own: the combination of the 'search only' and 'TTT + voting' runs (arcttt combine)."""


def settings(ttt_defaults: TTTConfig, ablations: bool) -> dict[str, tuple[TTTConfig, InferenceConfig, str]]:
    """name -> (TTT config, inference config, voting method); 'search only' runs the search alone.

    'TTT + voting' is `arcttt solve --solver ttt` with its defaults; each ablation changes one thing."""
    identity_only = InferenceConfig(transforms=("identity",), orders=1, colours=0)
    augmented, voting = InferenceConfig(), SolveConfig().voting
    paper_views = replace(augmented, colours=0)
    out = {
        "fine-tuned only": (replace(ttt_defaults, mode="none"), identity_only, "hierarchical"),
        "fine-tuned + voting": (replace(ttt_defaults, mode="none"), augmented, voting),
        "TTT + voting": (ttt_defaults, augmented, voting),
        "search only": (ttt_defaults, augmented, voting),
    }
    if ablations:
        d = ttt_defaults.data
        out.update({
            "TTT, no leave-one-out": (replace(ttt_defaults, data=replace(d, leave_one_out=False)), augmented, voting),
            "TTT, no transforms": (replace(ttt_defaults, data=replace(d, transforms="none")), augmented, voting),
            "TTT, one shared adapter": (replace(ttt_defaults, mode="shared"), augmented, voting),
            "TTT, query-output loss": (replace(ttt_defaults, loss="query"), augmented, voting),
            "TTT + flat voting": (ttt_defaults, augmented, "flat"),
            "TTT + DFS sampling": (ttt_defaults, replace(augmented, sampler="dfs"), voting),
            # the paper's inference and selection (the defaults before select40 chose PoE over 56 views)
            "TTT + hierarchical voting, 14 views": (ttt_defaults, paper_views, "hierarchical"),
        })
    return out


def selection_task_ids(n: int = 40) -> list[str]:
    """The n ARC-AGI-1 evaluation tasks outside dev80 with the shortest encoding (ties by id)."""
    from arcttt.data.codec import encode_task

    dev80 = {t.id for t in load_dataset("arc1/eval", "dev80").tasks}
    rest = [t for t in load_dataset("arc1/eval").tasks if t.id not in dev80]
    rest.sort(key=lambda t: (len(encode_task(t, with_answer=True)), t.id))
    return [t.id for t in rest[:n]]


def suite_tasks(suite: str) -> tuple[str, str | None]:
    """(dataset, task subset) of a suite drawn from a bundled set: dev80, select40 or a whole set."""
    if suite == "dev80":
        return "arc1/eval", "dev80"
    if suite == "select40":
        return "arc1/eval", ",".join(selection_task_ids(40))
    return WHOLE_SETS[suite], None


def heldout_tasks(per_family: int, seed: int, exclude_pairs: set | None = None) -> list:
    """The benchmark's tasks of the generator's held-out families (fixed seeds, difficulty 0.3).

    A task sharing an identical (input, output) pair with `exclude_pairs` (the model's
    training pool) is skipped for the next seed: a held-out rule can agree with a training
    rule on a degenerate input, e.g. an all-black grid.
    """
    exclude_pairs = exclude_pairs or set()
    out = []
    for fam in list_families("held-out"):
        s = 10_000 + seed * 1000
        found = 0
        while found < per_family:
            task = generate_task(fam.name, seed=s, difficulty=0.3)
            s += 1
            if not pair_keys([task]) & exclude_pairs:
                out.append(task)
                found += 1
    return out


def heldout_folder(root: Path, model: str, per_family: int, seed: int) -> Path:
    """heldout_tasks, decontaminated against the model's training pool, written once as task JSON."""
    folder = root / f"heldout_tasks_{Path(model).name}_{per_family}_{seed}"
    if not folder.exists():
        tmp = folder.with_suffix(".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        for task in heldout_tasks(per_family, seed, pair_keys(recorded_training_pool(model))):
            (tmp / f"{task.id}.json").write_text(json.dumps(task.to_json()))
        tmp.rename(folder)
    return folder


def commit() -> str:
    """The checked-out commit, with '-dirty' when tracked files differ from it."""
    try:
        here = Path(__file__).parent  # the checkout's, wherever the bench runs from
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=here).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True, cwd=here).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_dir(runs: Path, model: str, suite: str, setting: str) -> Path:
    slug = setting.lower().replace(" ", "-").replace(",", "").replace("+", "plus")
    return runs / Path(model).name / suite / slug


def solved_by(rows: list[dict], suite: str) -> dict | None:
    """How many tasks of a suite only the search, only TTT, or both solve (when both ran)."""
    got = {r["setting"]: set(r["score"]["solved"]) for r in rows if r["suite"] == suite}
    if "search only" not in got or "TTT + voting" not in got:
        return None
    search, ttt = got["search only"], got["TTT + voting"]
    return {"only search": len(search - ttt), "only TTT": len(ttt - search), "both": len(search & ttt)}


def search_answers(out: Path, solved: list[str]) -> dict:
    """Tasks where the search accepted a program, and those where it answered wrong (the ensemble's risk:
    a verified program answers before TTT)."""
    answered = {tid for tid, record in RunDir(out).finished().items() if record.get("programs")}
    return {"answered": len(answered), "wrong": len(answered - set(solved))}


def solutions_of(tasks: list) -> dict[str, list]:
    """Task id -> its test outputs as lists, for the tasks that have solutions (read only to score)."""
    return {t.id: [grid_to_list(p.output) for p in t.test] for t in tasks if t.has_solutions}


def candidate_recall(out: Path, tasks: list, solved: list[str]) -> dict:
    """Tasks whose every test answer is among TTT's ranked candidates (the record keeps its top 10), and
    how many of those the run solved: tells a selection problem (the answer was generated but not
    chosen) from a generation problem (the model never produced it)."""
    truth = solutions_of(tasks)
    among = {tid for tid, record in RunDir(out).finished().items()
             if record.get("status") == "ok" and tid in truth
             and all(a in ttt_ranking(record, i) for i, a in enumerate(truth[tid]))}
    return {"among_candidates": len(among), "chosen": len(among & set(solved))}


def publish(name: str, report: dict, table: str) -> None:
    """bench/results/<name>.json and <name>.md, and the table on stdout."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json_atomic(RESULTS / f"{name}.json", report)
    (RESULTS / f"{name}.md").write_text(table)
    print(table)


def markdown(report: dict) -> str:
    lines = [f"Model `{report['model']}`, commit `{report['commit']}`, {report['date']}", "",
             "| suite | setting | tasks solved | pass@2 per task | pass@2 per output | s/task (median) | by level |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in report["rows"]:
        s = row["score"]
        per_level = s.get("per_level", {})
        levels = ", ".join(f"{k} {per_level[k]['solved']}/{per_level[k]['tasks']}"
                           for k in ordered_levels(per_level))
        lines.append(f"| {row['suite']} | {row['setting']} | {s['tasks_correct']}/{s['tasks_total']} | "
                     f"{100 * s['task_accuracy']:.1f}% | {100 * s['output_accuracy']:.1f}% | "
                     f"{row['seconds_per_task']} | {levels} |")
        if row.get("search"):
            a = row["search"]
            lines.append(f"| {row['suite']} | search answers | a program accepted on {a['answered']} tasks, "
                         f"wrong on {a['wrong']} ({100 * a['wrong'] / s['tasks_total']:.1f}% of the suite) | | | | |")
        if row.get("candidates"):
            c = row["candidates"]
            lines.append(f"| {row['suite']} | its candidates | every answer among the top 10 on {c['among_candidates']} "
                         f"tasks, chosen on {c['chosen']} | | | | |")
        if row.get("overlap"):
            o = row["overlap"]
            lines.append(f"| {row['suite']} | solved by | only search {o['only search']}, only TTT {o['only TTT']}, "
                         f"both {o['both']} | | | | |")
    lines += ["", f"Command: `{report['command']}`"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--suite", action="append", choices=["dev80", "heldout", "select40", *WHOLE_SETS],
                   help="repeatable; default dev80 and heldout")
    p.add_argument("--heldout-per-family", type=int, default=10)
    p.add_argument("--max-tasks", type=int, default=None, help="first N tasks of each suite (quick looks)")
    p.add_argument("--only", action="append", default=None,
                   help="run only these settings, ablations included (repeatable)")
    p.add_argument("--ablations", action="store_true",
                   help="add the paper's ablations, flat voting, DFS sampling and the paper's 14 views with "
                        "hierarchical voting")
    p.add_argument("--runs", default="runs/bench-accuracy")
    p.add_argument("--name", default="accuracy", help="output file stem in bench/results/")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: one per core; use 1 per job when two jobs share the CPU)")
    p.add_argument("--ttt-mode", default=TTTConfig().mode, choices=TTT_MODES,
                   help="TTT of the TTT settings: auto (full for small models, else LoRA), lora (the paper), full ...")
    p.add_argument("--ttt-epochs", type=float, default=TTTConfig().epochs)
    p.add_argument("--search-seconds", type=float, default=SearchConfig().seconds,
                   help="program search budget per task (the 'search only' setting)")
    p.add_argument("--workers", type=int, default=1,
                   help="solve tasks in this many local processes (--threads each, default cores / workers); "
                        "the shared-adapter setting always runs serially")
    args = p.parse_args(argv)
    code = commit()  # the code that runs: taken now, not when a long benchmark ends
    suites = args.suite or ["dev80", "heldout"]
    runs = Path(args.runs)
    rows = []
    for suite in suites:
        if suite == "heldout":
            dataset, tasks = str(heldout_folder(runs, args.model, args.heldout_per_family, args.seed)), None
        else:
            dataset, tasks = suite_tasks(suite)
        ttt_defaults = TTTConfig(mode=args.ttt_mode, epochs=args.ttt_epochs)
        chosen = settings(ttt_defaults, args.ablations or bool(args.only))
        for name, (ttt, inf, voting) in [*chosen.items(), (ENSEMBLE, (None,) * 3)]:
            if args.only and name not in args.only:
                continue
            out = run_dir(runs, args.model, suite, name)
            print(f"== {suite}: {name}", flush=True)
            if name == ENSEMBLE:
                parts = [run_dir(runs, args.model, suite, n) for n in ("search only", "TTT + voting")]
                if not all((p / "summary.json").is_file() for p in parts):
                    print("   skipped: needs finished 'search only' and 'TTT + voting' runs of this suite")
                    continue
                summary = combine(str(parts[0]), str(parts[1]), str(out))
            else:
                executor = ExecutorConfig()
                if args.workers > 1 and ttt.mode != "shared":
                    executor = ExecutorConfig("processes", workers=args.workers)
                config = SolveConfig(dataset=dataset, tasks=tasks, model=args.model, out=str(out), seed=args.seed,
                                     solver="search" if name == "search only" else "ttt", ttt=ttt, inference=inf,
                                     voting=voting, max_tasks=args.max_tasks, threads=args.threads,
                                     executor=executor, search=SearchConfig(seconds=args.search_seconds))
                summary = solve_dataset(config)
            rows.append({"suite": suite, "setting": name, "run": str(out), "score": summary["score"],
                         "failed": len(summary["failed"]),
                         "seconds_per_task": summary.get("seconds_per_task", {}).get("median")})
            if name == "search only":
                rows[-1]["search"] = search_answers(out, summary["score"]["solved"])
            elif name != ENSEMBLE:
                rows[-1]["candidates"] = candidate_recall(out, load_dataset(dataset, tasks).tasks,
                                                          summary["score"]["solved"])
            print(f"   solved {summary['score']['tasks_correct']}/{summary['score']['tasks_total']}", flush=True)
        overlap = solved_by(rows, suite)
        if overlap:
            rows[-1]["overlap"] = overlap
    report = {"model": args.model, "commit": code, "date": time.strftime("%Y-%m-%d %H:%M"),
              "command": "python bench/accuracy.py " + shlex.join(sys.argv[1:] if argv is None else argv),
              "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "rows": rows}
    publish(args.name, report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
