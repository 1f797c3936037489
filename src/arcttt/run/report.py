"""`arcttt report RUN`: one self-contained HTML page (``RUN/report.html``) of a run directory.

The page is for reading a run by eye: a header with the configuration and the
summary (the numbers of ``summary.json``, as written), a status filter, and one
card per task with its demonstrations, each test input, both attempts beside the
truth, the top voted candidates, the TTT loss curve, timings and any error.
It loads nothing from the network (inline CSS and a few lines of inline JS), so
it can be copied off a cluster and opened anywhere.

Each card is ``<section class="task-card" data-status=...>``; the statuses are
disjoint so the filter buttons partition the cards:

- ``solved``: every test output is matched by one of its two attempts;
- ``unsolved``: the task ran without error but some test output is missed;
- ``failed``: the record's status is "failed" (an error, or no candidate decoded);
- ``unknown``: it ran, but no truth is known (hidden test outputs, or the dataset is gone
  and ``summary.json`` has no score to say which tasks were solved);
- ``pending``: a task of the run with no record yet.

Opening the page as ``report.html#status=solved`` (or unsolved, failed ...) starts with that filter.

Grids are inline SVG: one rectangle for the most common colour and one path of
horizontal runs per other colour, coloured through CSS classes, so a 400-task
page stays a few megabytes and each grid costs a handful of DOM nodes.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.datasets import difficulty_levels, load_dataset
from ..data.render import GRID_CSS, grid_html, grid_rows
from ..data.tasks import Task
from ..errors import ArcTTTError
from ..method.scoring import ordered_levels

STATUSES = ("solved", "unsolved", "failed", "unknown", "pending")
RECORD_KEYS = {"task_id", "status", "error", "traceback", "attempts", "candidates", "timings", "ttt", "inference",
               "solver", "search", "programs"}
"""Record fields drawn in their own place; any other top-level key is shown as key/value text."""

PAGE_CSS = """
body{font:13px/1.4 system-ui,sans-serif;margin:0;background:#eceff3;color:#222}
header{padding:12px 20px;background:#1f2430;color:#e8e8e8}header h1{font-size:17px;margin:0 0 6px}
header table{border-collapse:collapse;margin:6px 0}header td,header th{padding:1px 10px 1px 0;text-align:left}
header .warn{color:#ffb347}header .kv{color:#e8e8e8}header .kv b{color:#9fb3c8}header details{margin-top:6px}
header pre{color:#ccc;background:#2a3040;font-size:11px}
nav{position:sticky;top:0;z-index:2;background:#fff;padding:7px 20px;border-bottom:1px solid #ccc}
nav button{font:inherit;margin-right:4px;padding:2px 10px;border:1px solid #999;border-radius:12px;background:#f6f6f6}
nav button.on{background:#1f2430;color:#fff}nav input{font:inherit;margin-left:12px;padding:2px 6px}
#dots{padding:6px 20px 0}#dots a{display:inline-block;width:9px;height:9px;margin:1px;border-radius:2px}
.task-card{background:#fff;margin:10px 20px;padding:8px 14px;border-radius:6px;border-left:6px solid #999}
.task-card[hidden]{display:none}.body{display:flex;flex-wrap:wrap;gap:8px 28px}
.grids{flex:1 1 480px;min-width:0}.side{flex:0 1 340px;min-width:0}.task-card h2{font-size:15px;margin:2px 0 6px}
.badge{font-size:11px;padding:1px 7px;border-radius:9px;color:#fff;margin-left:6px;vertical-align:middle}
.b-solved,.d-solved{background:#2a9d3a}.b-unsolved,.d-unsolved{background:#d9534f}
.b-failed,.d-failed{background:#7b1fa2}.b-unknown,.d-unknown{background:#888}.b-pending,.d-pending{background:#bbb}
.b-level{background:#3b6ea5}.s-solved{border-color:#2a9d3a}.s-unsolved{border-color:#d9534f}
.s-failed{border-color:#7b1fa2}.s-pending{border-color:#ccc}
.row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;margin:4px 0}
.pair{display:flex;align-items:center;gap:4px;background:#f3f4f6;padding:4px;border-radius:4px}
figure{margin:0;display:flex;flex-direction:column;align-items:center;gap:2px}figcaption{font-size:11px;color:#555}
.right svg.g{outline:3px solid #2ECC40}.wrong svg.g{outline:3px solid #FF4136}
.right figcaption{color:#1d7a2a}.wrong figcaption{color:#c62828}
h3{font-size:12px;margin:8px 0 2px;color:#444}
.kv{font-size:12px;color:#333}.kv b{font-weight:600;color:#555}
pre{white-space:pre-wrap;max-height:240px;overflow:auto;background:#f6f6f6;padding:6px;margin:4px 0;font-size:11px}
pre.err{background:#fff0f0;color:#8b0000}.note{color:#666;font-style:italic}
table.cand{border-collapse:collapse;font-size:11px}table.cand td,table.cand th{padding:2px 8px;text-align:left;
vertical-align:middle;border-bottom:1px solid #eee}td.hit{color:#1d7a2a;font-weight:bold}
.loss polyline{fill:none;stroke:#0074D9;stroke-width:1.5}.loss text{font-size:10px;fill:#555}
.loss line{stroke:#ccc}
"""

PAGE_JS = r"""
(function(){
  var status='all', query='';
  function apply(){
    document.querySelectorAll('.task-card').forEach(function(c){
      c.hidden=(status!=='all'&&c.dataset.status!==status)||c.dataset.task.toLowerCase().indexOf(query)<0;
    });
  }
  document.querySelectorAll('nav button').forEach(function(b){
    b.addEventListener('click',function(){
      document.querySelectorAll('nav button').forEach(function(x){x.classList.toggle('on',x===b);});
      status=b.dataset.filter; apply();
    });
  });
  document.getElementById('search').addEventListener('input',function(e){
    query=e.target.value.trim().toLowerCase(); apply();
  });
  var m=/^#status=(\w+)$/.exec(location.hash), b=m&&document.querySelector('nav button[data-filter="'+m[1]+'"]');
  if(b) b.click();
})();
"""


def esc(value: Any) -> str:
    """Text made safe for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _figure(grid: Any, caption: str, cls: str = "") -> str:
    rows = grid_rows(grid)
    shape = f" {len(rows)}x{len(rows[0])}" if rows else ""
    return (f'<figure class="{cls}">{grid_html(grid)}'
            f"<figcaption>{esc(caption)}{shape}</figcaption></figure>")


def _same(a: Any, b: Any) -> bool:
    ra, rb = grid_rows(a), grid_rows(b)
    return ra is not None and ra == rb


def loss_svg(losses: Sequence[float], width: int = 280, height: int = 70) -> str:
    """The TTT loss curve as an inline SVG polyline, labelled with its max (top) and min (bottom)."""
    vals = [float(v) for v in losses if isinstance(v, (int, float)) and math.isfinite(v)]
    if len(vals) < 2:
        return ""
    lo, hi = min(vals), max(vals)
    left, top, bottom = 66, 6, height - 6
    span, step = (hi - lo) or 1.0, (width - left - 4) / (len(vals) - 1)
    pts = " ".join(f"{left + i * step:.1f},{top + (hi - v) / span * (bottom - top):.1f}" for i, v in enumerate(vals))
    return (f'<svg class="loss" width="{width}" height="{height}">'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>'
            f'<line x1="{left}" y1="{bottom}" x2="{width - 4}" y2="{bottom}"/>'
            f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">max {hi:.3g}</text>'
            f'<text x="{left - 4}" y="{bottom}" text-anchor="end">min {lo:.3g}</text>'
            f'<polyline points="{pts}"/></svg>')


def _kv(d: dict, skip: Sequence[str] = ()) -> str:
    """A dict as one line of `key value` text; nested values as compact JSON."""
    items = []
    for k, v in d.items():
        if k in skip:
            continue
        text = v if isinstance(v, str) else json.dumps(v)
        items.append(f"<b>{esc(k)}</b> {esc(text if len(text) <= 300 else text[:300] + ' ...')}")
    return f'<div class="kv">{" &middot; ".join(items)}</div>' if items else ""


def _extras(record: dict) -> str:
    """Record fields this page does not know (a solver name, a program ...): multi-line text as <pre>."""
    out = []
    for k, v in record.items():
        if k in RECORD_KEYS:
            continue
        if isinstance(v, str) and ("\n" in v or len(v) > 120):
            out.append(f'<div class="kv"><b>{esc(k)}</b></div><pre>{esc(v)}</pre>')
        else:
            out.append(_kv({k: v}))
    return "".join(out)


def task_status(record: dict | None, truth: list | None, scored_solved: set[str] | None = None) -> str:
    """One of STATUSES; `truth` is the test outputs (None when unknown), `scored_solved` the ids
    summary.json's score counts as solved (used only when the truth itself is not at hand)."""
    if record is None:
        return "pending"
    if record.get("status") != "ok":
        return "failed"
    if truth is not None:
        attempts = record.get("attempts") or []
        hit = all(i < len(attempts) and any(_same(a, t) for a in attempts[i][:2]) for i, t in enumerate(truth))
        return "solved" if hit else "unsolved"
    if scored_solved is not None:
        return "solved" if record.get("task_id") in scored_solved else "unsolved"
    return "unknown"


def _test_html(i: int, test_input: Any, truth: Any, attempts: list, candidates: list, sources: list = ()) -> str:
    """One test input: the input, the truth, both attempts (marked when the truth is known, and named by the
    solver that gave them), the candidates."""
    figs = [_figure(test_input, "input")] if test_input is not None else []
    if truth is not None:
        figs.append(_figure(truth, "truth"))
    for j, a in enumerate(attempts[:2]):
        mark, cls = ("", "") if truth is None else ((" \u2713", "right") if _same(a, truth) else (" \u2717", "wrong"))
        source = f" ({sources[j]})" if j < len(sources) else ""
        figs.append(_figure(a, f"attempt {j + 1}{mark}{source}", cls))
    if not attempts:
        figs.append('<span class="note">no attempts</span>')
    out = [f'<h3>test {i + 1}</h3><div class="row">{"".join(figs)}</div>']
    if candidates:
        candidates = [c if isinstance(c, dict) else {} for c in candidates]
        scored = any("score" in c for c in candidates)
        rows = []
        for r, c in enumerate(candidates):
            hit = truth is not None and _same(c.get("grid"), truth)
            score = f'<td>{esc(_number(c.get("score")))}</td>' if scored else ""
            rows.append(f'<tr><td>{r + 1}</td><td>{grid_html(c.get("grid"), 90, 10)}</td>'
                        f'<td>{esc(c.get("votes", ""))}</td><td>{esc(_number(c.get("logprob")))}</td>{score}'
                        f'<td>{esc(", ".join(map(str, c.get("transforms") or [])))}</td>'
                        f'<td class="{"hit" if hit else ""}">{"= truth" if hit else ""}</td></tr>')
        score_head = "<th>PoE score</th>" if scored else ""
        out.append(f'<details><summary>top {len(candidates)} candidates</summary><table class="cand">'
                   f"<tr><th>#</th><th>grid</th><th>votes</th><th>log-prob</th>{score_head}<th>views</th><th></th></tr>"
                   f'{"".join(rows)}</table></details>')
    return "".join(out)


def _number(value) -> str:
    """A float to three decimals; anything else (a missing value, a count) as it is."""
    return f"{value:.3f}" if isinstance(value, float) else "" if value is None else str(value)


def _card(task_id: str, task: Task | None, record: dict | None, status: str, level: str) -> str:
    """The <section> of one task."""
    badges = f'<span class="badge b-{status}">{status}</span>'
    if level:
        badges += f'<span class="badge b-level">{esc(level)}</span>'
    out = [f'<section class="task-card s-{status}" id="task-{esc(task_id)}" data-status="{status}" '
           + f'data-task="{esc(task_id)}"><h2>{esc(task_id)}{badges}</h2>']
    rec = record or {}
    if rec.get("error"):
        out.append(f'<pre class="err">{esc(rec["error"])}</pre>')
    if rec.get("traceback"):
        out.append(f'<details><summary>traceback</summary><pre class="err">{esc(rec["traceback"])}</pre></details>')
    out.append('<div class="body"><div class="grids">')
    if task is not None:
        pairs = [f'<div class="pair">{grid_html(p.input, 120)}<span>&rarr;</span>{grid_html(p.output, 120)}</div>'
                 for p in task.train]
        out.append(f'<h3>demonstrations</h3><div class="row">{"".join(pairs)}</div>')
    attempts, candidates, solvers = rec.get("attempts") or [], rec.get("candidates") or [], rec.get("solver") or []
    n_tests = len(task.test) if task is not None else max(len(attempts), len(candidates))
    for i in range(n_tests):
        pair = task.test[i] if task is not None else None
        out.append(_test_html(i, None if pair is None else pair.input, None if pair is None else pair.output,
                              attempts[i] if i < len(attempts) else [], candidates[i] if i < len(candidates) else [],
                              solvers[i] if i < len(solvers) else []))
    if record is None:
        out.append('<p class="note">no record yet: the task has not finished</p>')
    out.append('</div><div class="side">')
    found = rec.get("search")
    if isinstance(found, dict):
        programs = "\n".join(f"cost {p['cost']}  {p['program']}" for p in found.get("programs", [])) or "none found"
        out.append(f"<h3>program search</h3>{_kv(found, skip=('programs',))}<pre>{esc(programs)}</pre>")
    ttt = rec.get("ttt") or {}
    if ttt:
        out.append(f"<h3>test-time training</h3>{_kv(ttt, skip=('losses',))}{loss_svg(ttt.get('losses') or [])}")
    for key, title in (("timings", "timings (s)"), ("inference", "inference")):
        if isinstance(rec.get(key), dict) and rec[key]:
            out.append(f"<h3>{title}</h3>{_kv(rec[key])}")
    if record is not None:
        out.append(_extras(record))
    out.append("</div></div></section>")
    return "".join(out)


def _read_json(path: Path, notes: list[str]) -> Any:
    """A JSON file, or None (with a note for the page) when it is missing or damaged."""
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        notes.append(f"{path.name}: cannot read ({e})")
        return None


def _load_tasks(config: dict | None, notes: list[str]) -> list[Task] | None:
    """The run's tasks with their test outputs, loaded as `arcttt solve` selected them; None when gone."""
    if not config or "dataset" not in config:
        notes.append("no config.json: the page is drawn from the records alone, without demonstrations")
        return None
    try:
        tasks = load_dataset(config["dataset"], config.get("tasks")).tasks
    except ArcTTTError as e:
        notes.append(f"the dataset {config['dataset']!r} cannot be loaded ({e}); the page is drawn from the records "
                     "alone, without demonstrations or truth")
        return None
    return tasks[: config["max_tasks"]] if config.get("max_tasks") else tasks


def _header(run: Path, config: dict, summary: dict | None, solved: set[str], notes: list[str]) -> str:
    """Run identity, summary.json's numbers as written, and notes about what the page could not use."""
    meta = {k: config.get(k) for k in ("model", "dataset", "tasks", "seed", "voting") if config.get(k) is not None}
    if isinstance(config.get("ttt"), dict) and "mode" in config["ttt"]:
        meta["ttt mode"] = config["ttt"]["mode"]
    out = [f"<header><h1>arcttt run {esc(run.resolve())}</h1>", _kv(meta)]
    if summary is None:
        out.append('<p class="warn">no summary.json yet: the run has not finished</p>')
    else:
        failed = summary.get("failed") or {}
        rows = [("tasks", f"{summary.get('tasks', '?')} ({summary.get('finished', '?')} finished, "
                          + f"{len(failed)} failed)")]
        spt = summary.get("seconds_per_task") or {}
        if spt:
            rows.append(("seconds per task", f"median {spt.get('median')}, mean {spt.get('mean')}"))
        if "run_seconds" in summary:
            rows.append(("run seconds", summary["run_seconds"]))
        score = summary.get("score")
        if score:
            rows.append(("solved per task", f"{score['tasks_correct']}/{score['tasks_total']} "
                                            + f"= {100 * score.get('task_accuracy', 0):.1f}%"))
            rows.append(("solved per output", f"{score['outputs_correct']:g}/{score['outputs_total']} "
                                              + f"= {100 * score.get('output_accuracy', 0):.1f}%"))
            rows.append(("kaggle score", f"{score.get('kaggle_score', 0):.2f} / {score['tasks_total']}"))
            per_level = score.get("per_level") or {}
            for lv in ordered_levels(per_level):
                rows.append((f"level {lv}", f"{per_level[lv]['solved']}/{per_level[lv]['tasks']}"))
            if set(score.get("solved", [])) != solved:
                notes.append(f"summary.json counts {len(score.get('solved', []))} solved tasks, the records give "
                             f"{len(solved)} (the summary may be older than the records)")
        else:
            rows.append(("solved", "not scored: the test outputs are not known"))
        if summary.get("load_errors"):
            rows.append(("load errors", len(summary["load_errors"])))
        out.append("<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>")
    out += [f'<p class="warn">{esc(n)}</p>' for n in notes]
    out.append(f"<details><summary>configuration</summary><pre>{esc(json.dumps(config, indent=1))}</pre></details>"
               "</header>")
    return "".join(out)


def render_report(run_path: str | Path, tasks: Sequence[Task] | None = None) -> str:
    """The HTML page of a run directory; `tasks` (with test outputs) default to the run's dataset."""
    run = Path(run_path)
    notes: list[str] = []
    config = _read_json(run / "config.json", notes) or {}
    summary = _read_json(run / "summary.json", notes)
    if tasks is None:
        tasks = _load_tasks(config, notes)
    records: dict[str, dict] = {}
    for f in sorted((run / "results").glob("*.json")):
        rec = _read_json(f, notes)
        if isinstance(rec, dict):
            records[str(rec.get("task_id", f.stem))] = rec
    by_id = {t.id: t for t in tasks or []}
    ids = list(by_id) + sorted(set(records) - set(by_id))
    score = (summary or {}).get("score") or {}
    scored = set(score["solved"]) if "solved" in score else None
    try:
        levels = difficulty_levels()
    except (ArcTTTError, OSError):
        levels = {}
    statuses = {}
    for tid in ids:
        t = by_id.get(tid)
        truth = [p.output for p in t.test] if t is not None and t.has_solutions else None
        statuses[tid] = task_status(records.get(tid), truth, scored)
    counts = {s: sum(v == s for v in statuses.values()) for s in STATUSES}
    buttons = [f'<button data-filter="all" class="on">All ({len(ids)})</button>']
    buttons += [f'<button data-filter="{s}">{s.capitalize()} ({counts[s]})</button>'
                for s in STATUSES if counts[s] or s in ("solved", "unsolved", "failed")]
    dots = "".join(f'<a href="#task-{esc(t)}" class="d-{statuses[t]}" title="{esc(t)}: {statuses[t]}"></a>'
                   for t in ids)
    cards = [_card(tid, by_id.get(tid), records.get(tid), statuses[tid], levels.get(tid, "")) for tid in ids]
    return "\n".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>arcttt report {esc(run.name)}</title><style>{PAGE_CSS}{GRID_CSS}</style></head><body>",
        _header(run, config, summary, {t for t, s in statuses.items() if s == "solved"}, notes),
        f'<nav>{"".join(buttons)}<input id="search" type="search" placeholder="task id"></nav>',
        f'<div id="dots">{dots}</div>', "<main>", *cards, "</main>",
        f"<script>{PAGE_JS}</script></body></html>"])


def write_report(run_path: str | Path, tasks: Sequence[Task] | None = None) -> Path:
    """Write RUN/report.html (replaced whole, never half-written) and return its path."""
    run = Path(run_path)
    if not run.is_dir():
        raise ArcTTTError(f"{run} is not a run directory")
    page = render_report(run, tasks)
    path = run / "report.html"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path
