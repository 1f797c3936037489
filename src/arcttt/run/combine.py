"""`arcttt combine`: the ensemble of a finished search run and a finished TTT run of the same tasks.

Neither is recomputed: per task, the search run's verified answers come first and the TTT run's
ranking fills the rest (arcttt.run.ensemble.merge), exactly as `arcttt solve --solver ensemble` would
answer. Its time per task is what that live ensemble would spend: the search, plus TTT only where the
search had fewer than two answers for some test input.
"""

from __future__ import annotations

import dataclasses

from ..data.datasets import load_dataset
from ..errors import ArcTTTError
from .ensemble import merge, ttt_ranking
from .run_dir import RunDir
from .solve import write_outputs


def combine(first: str, second: str, out: str, report: bool = True) -> dict:
    """Combine two run directories (one --solver search, one --solver ttt) into `out`; returns its summary."""
    runs = {RunDir(p).config().solver: RunDir(p) for p in (first, second)}
    if set(runs) != {"search", "ttt"}:
        raise ArcTTTError(f"combine needs one run with --solver search and one with --solver ttt; got "
                          f"{', '.join(sorted(RunDir(p).config().solver for p in (first, second)))}")
    search_cfg, ttt_cfg = runs["search"].config(), runs["ttt"].config()
    if (search_cfg.dataset, search_cfg.tasks) != (ttt_cfg.dataset, ttt_cfg.tasks):
        raise ArcTTTError(f"the runs solved different tasks: {search_cfg.dataset} {search_cfg.tasks or ''} "
                          f"against {ttt_cfg.dataset} {ttt_cfg.tasks or ''}")
    res = load_dataset(ttt_cfg.dataset, ttt_cfg.tasks)
    tasks = res.tasks[: ttt_cfg.max_tasks] if ttt_cfg.max_tasks else res.tasks
    found = {name: run.finished() for name, run in runs.items()}
    missing = [t.id for t in tasks if any(t.id not in found[name] for name in found)]
    if missing:
        raise ArcTTTError(f"{len(missing)} task(s) are not finished in both runs (e.g. {', '.join(missing[:5])}); "
                          "finish them first (re-running a run resumes it)")
    config = dataclasses.replace(ttt_cfg, solver="ensemble", search=search_cfg.search, out=out, report=report)
    run = RunDir(out)
    run.prepare(config)
    records = {}
    for task in tasks:
        records[task.id] = merged(found["search"][task.id], found["ttt"][task.id], len(task.test))
        run.write_record(records[task.id])
    seconds = sum(r["timings"]["total_s"] for r in records.values())
    return write_outputs(run, tasks, records, seconds, res.errors, report)


def merged(search: dict, ttt: dict, n_tests: int) -> dict:
    """One task's ensemble record from its search record and its TTT record."""
    programs = [search["attempts"][i] if i < len(search["attempts"]) else [] for i in range(n_tests)]
    needs_ttt = min(map(len, programs)) < 2
    record = {"task_id": search["task_id"], "status": "ok", "error": None, "attempts": [], "solver": [],
              "candidates": ttt.get("candidates", []), "ttt": ttt.get("ttt", {}), "search": search.get("search"),
              "programs": search.get("programs", []), "inference": ttt.get("inference", {}),
              "timings": {"search_s": search["timings"].get("search_s", 0.0),
                          "ttt_s": ttt["timings"].get("ttt_s", 0.0),
                          "inference_s": ttt["timings"].get("inference_s", 0.0),
                          "total_s": round(search["timings"]["total_s"]
                                           + (ttt["timings"]["total_s"] if needs_ttt else 0.0), 3)}}
    for i in range(n_tests):
        attempts, sources = merge(programs[i], ttt_ranking(ttt, i) if ttt["status"] == "ok" else [])
        record["attempts"].append(attempts)
        record["solver"].append(sources)
    if not all(record["attempts"]):
        record["status"], record["error"] = "failed", ttt.get("error") or "no answer from either solver"
    return record
