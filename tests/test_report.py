"""The run report: the HTML it renders, and the page in a real headless Chromium.

A synthetic run directory is written by hand (config, records, a summary scored with
the library's own scorer) over a folder of five small tasks: solved, unsolved, failed,
one whose attempt is a 3x35 grid, and one with no record yet (pending).
The browser tests skip only when no Chromium binary is found.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from arcttt.data.datasets import load_dataset
from arcttt.data.render import PALETTE, grid_html
from arcttt.method.scoring import build_submission, score_submission
from arcttt.run.report import loss_svg, render_report, task_status, write_report

NASTY = "RuntimeError: <script>alert('x')</script> & \"quotes\""
WIDE = [[(c + r) % 10 for c in range(35)] for r in range(3)]

TASKS = {
    "aa_solved": {"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]},
                            {"input": [[5, 6], [7, 8]], "output": [[8, 7], [6, 5]]}],
                  "test": [{"input": [[9, 1], [2, 3]], "output": [[3, 2], [1, 9]]}]},
    "bb_unsolved": {"train": [{"input": [[1, 0, 0]], "output": [[2, 0, 0]]}],
                    "test": [{"input": [[1, 1, 0]], "output": [[2, 2, 0]]}]},
    "cc_failed": {"train": [{"input": [[3]], "output": [[4]]}],
                  "test": [{"input": [[3, 3]], "output": [[4, 4]]}]},
    "dd_wide": {"train": [{"input": [[6] * 30] * 3, "output": [[7] * 30] * 3}],
                "test": [{"input": [[6, 6]], "output": [[7, 7]]}, {"input": [[6] * 30] * 3, "output": [[7] * 30] * 3}]},
    "ee_pending": {"train": [{"input": [[8]], "output": [[9]]}], "test": [{"input": [[8, 8]], "output": [[9, 9]]}]},
}


def _candidate(grid, votes, logprob, transforms=("identity",), score=None):
    out = {"grid": grid, "votes": votes, "logprob": logprob, "transforms": list(transforms)}
    if score is not None:
        out["score"] = score
    return out


def _record(task_id, attempts, candidates=None, status="ok", error=None, **extra):
    rec = {"task_id": task_id, "status": status, "error": error, "attempts": attempts,
           "candidates": candidates or [[_candidate(g, 5 - i, -0.5 * i) for i, g in enumerate(a)] for a in attempts],
           "timings": {"ttt_s": 1.5, "inference_s": 2.0, "total_s": 3.5},
           "ttt": {"mode": "lora", "examples": 12, "steps": 20, "tokens": 900, "precision": "fp32",
                   "losses": [2.0, 1.2, 0.8, 0.5, 0.45]},
           "inference": {"prompts": 8, "distinct_prompts": 8, "prompt_tokens": 400, "generated_tokens": 64}}
    rec.update(extra)
    return rec


RECORDS = [
    _record("aa_solved", [[[[3, 2], [1, 9]], [[0, 0], [0, 0]]]], sampler=["dfs"], solver=[["search", "ttt"]],
            search={"states": 12, "seconds": 0.5, "stopped": "found",
                    "programs": [{"program": "rotate(x, k=2)", "cost": 1}]},
            program="def solve(g):\n    return g[::-1, ::-1]  # <b>not bold</b>"),
    _record("bb_unsolved", [[[[2, 0, 0]], [[1, 1, 0]]]],
            candidates=[[_candidate([[2, 0, 0]], 4, -0.2, ["identity", "rot180"], score=-4.25),
                         _candidate([[1, 1, 0]], 3, -1.0, score=-7.5),
                         _candidate([[2, 2, 0]], 1, -3.0, ["transpose"], score=-9.125)]]),
    _record("cc_failed", [], status="failed", error=NASTY, traceback="Traceback (most recent call last):\n  boom"),
    _record("dd_wide", [[[[7, 7]], [[6, 6]]], [WIDE, [[7] * 29] * 3]]),
]


def _write_run(root: Path, with_score: bool = True) -> Path:
    """A run directory as `arcttt solve` leaves it, over a folder dataset; returns its path."""
    data = root / "data"
    data.mkdir()
    for tid, task in TASKS.items():
        (data / f"{tid}.json").write_text(json.dumps(task))
    run = root / "run"
    (run / "results").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"dataset": str(data), "tasks": None, "model": "models/tiny",
                                                 "seed": 3, "voting": "hierarchical", "ttt": {"mode": "lora"},
                                                 "inference": {"transforms": ["identity"]}}))
    for rec in RECORDS:
        (run / "results" / f"{rec['task_id']}.json").write_text(json.dumps(rec))
    tasks = load_dataset(str(data)).tasks
    attempts = {r["task_id"]: [[np.array(g, dtype=np.uint8) for g in per_test if len(g) <= 30 and len(g[0]) <= 30]
                               for per_test in r["attempts"]] for r in RECORDS}
    summary = {"tasks": len(tasks), "finished": len(RECORDS),
               "failed": {r["task_id"]: r["error"] for r in RECORDS if r["status"] != "ok"},
               "run_seconds": 20.0, "seconds_per_task": {"median": 3.5, "mean": 3.5}}
    if with_score:
        score = score_submission(build_submission(tasks, attempts), tasks,
                                 {"aa_solved": "easy", "bb_unsolved": "hard", "dd_wide": "hard"}).to_dict()
        score.pop("warnings")
        summary["score"] = score
    (run / "summary.json").write_text(json.dumps(summary))
    return run


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return _write_run(tmp_path)


def _statuses(page: str) -> dict[str, str]:
    """task id -> data-status of every card, in page order."""
    cards = re.findall(r'<section class="task-card[^"]*"[^>]*data-status="(\w+)" data-task="([^"]*)"', page)
    return {tid: status for status, tid in cards}


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


# ---------------------------------------------------------------- the HTML

def test_one_card_per_task_with_its_status(run_dir):
    page = render_report(run_dir)
    assert _statuses(page) == {"aa_solved": "solved", "bb_unsolved": "unsolved", "cc_failed": "failed",
                               "dd_wide": "unsolved", "ee_pending": "pending"}
    assert page.count('class="task-card') == len(TASKS)


def test_header_numbers_are_the_summary_s(run_dir):
    page = render_report(run_dir)
    score = _summary(run_dir)["score"]
    assert score["solved"] == ["aa_solved"]
    assert sum(s == "solved" for s in _statuses(page).values()) == score["tasks_correct"]
    assert f"{score['tasks_correct']}/{score['tasks_total']}" in page
    assert f"{score['outputs_correct']:g}/{score['outputs_total']}" in page  # dd_wide's first output is right
    assert "5 (4 finished, 1 failed)" in page and "median 3.5" in page
    assert "level easy" in page and "level hard" in page
    assert "summary is older" not in page


def test_attempts_marked_against_the_truth(run_dir):
    page = render_report(run_dir)
    assert "attempt 1 \u2713" in page and "attempt 2 \u2717" in page
    assert "= truth" in page  # bb_unsolved's third candidate is the truth
    assert "identity, rot180" in page and "-0.200" in page
    assert 'viewBox="0 0 35 3"' in page  # the 3x35 attempt is drawn, not rejected
    assert page.count("<polyline") == len(RECORDS)


def test_text_is_escaped_and_extras_shown(run_dir):
    page = render_report(run_dir)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # the page's own filter
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page and "<b>sampler</b>" in page
    assert "attempt 1 \u2713 (search)" in page and "attempt 2" in page and "(ttt)" in page  # who answered
    assert "program search" in page and "cost 1  rotate(x, k=2)" in page
    assert "Traceback (most recent call last)" in page


def test_poe_scores_shown_only_where_recorded(run_dir):
    page = render_report(run_dir)
    assert page.count("<th>PoE score</th>") == 1  # bb_unsolved's candidates carry scores, the others none
    bb = page[page.index('id="task-bb_unsolved"'):page.index('id="task-cc_failed"')]
    assert "<td>-4.250</td>" in bb and "<td>-9.125</td>" in bb


def test_page_is_self_contained(run_dir):
    page = render_report(run_dir)
    for ref in ("http://", "https://", "<link", "src=", "@import", "url("):
        assert ref not in page


def test_a_stale_summary_is_pointed_out(run_dir):
    summary = _summary(run_dir)
    summary["score"].update(solved=[], tasks_correct=0)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    page = render_report(run_dir)
    assert "summary.json counts 0 solved tasks, the records give 1" in page and "0/5" in page


def test_without_the_dataset_the_summary_decides(run_dir, tmp_path):
    shutil.rmtree(tmp_path / "data")
    page = render_report(run_dir)
    assert "cannot be loaded" in page and "without demonstrations" in page
    assert "demonstrations</h3>" not in page
    assert _statuses(page) == {"aa_solved": "solved", "bb_unsolved": "unsolved", "cc_failed": "failed",
                               "dd_wide": "unsolved"}


def test_hidden_outputs_give_unknown(tmp_path):
    run = _write_run(tmp_path, with_score=False)
    tasks = [t.without_solutions() for t in load_dataset(str(tmp_path / "data")).tasks]
    page = render_report(run, tasks)
    assert set(_statuses(page).values()) == {"unknown", "failed", "pending"}
    assert 'data-filter="unknown"' in page and "not scored" in page
    assert "\u2713" not in page and "\u2717" not in page


def test_write_report(run_dir):
    path = write_report(run_dir)
    assert path == run_dir / "report.html" and path.read_text(encoding="utf-8") == render_report(run_dir)


def test_grid_html_and_loss_svg():
    g = grid_html(np.array([[0, 1], [1, 0]], dtype=np.uint8))
    assert 'class="c1"' in g and 'width="32"' in g  # 16 px cells
    assert 'width="140"' in grid_html(WIDE)  # 35 wide, shrunk to 4 px cells
    for bad in ([], [[1, 2], [3]], [[10]], "x", [[True]]):
        assert "not a grid" in grid_html(bad)
    assert loss_svg([1.0]) == ""
    svg = loss_svg([3.0, 2.0, 1.0])
    assert svg.count(",") == 3 and "max 3" in svg and "min 1" in svg


def test_task_status_rules():
    truth = [np.array([[1]], dtype=np.uint8)]
    assert task_status(None, truth) == "pending"
    assert task_status({"status": "failed", "attempts": [[[[1]]]]}, truth) == "failed"
    assert task_status({"status": "ok", "attempts": [[[[0]], [[1]]]]}, truth) == "solved"
    assert task_status({"status": "ok", "attempts": [[[[0]], [[2]]]]}, truth) == "unsolved"
    assert task_status({"status": "ok", "attempts": []}, truth) == "unsolved"
    assert task_status({"status": "ok", "task_id": "a"}, None) == "unknown"
    assert task_status({"status": "ok", "task_id": "a"}, None, {"a"}) == "solved"


# ---------------------------------------------------------------- in a browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium found; scripts/install_browser.sh installs Debian's chromium")


def _png_pixels(png: bytes) -> np.ndarray:
    """An 8-bit RGB/RGBA non-interlaced PNG as an (h, w, 3) array: a small stdlib+numpy decoder."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, head = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = head
    assert depth == 8 and colour in (2, 6) and not interlace, f"unsupported PNG {head}"
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + w * bpp)
    out = np.zeros((h, w * bpp), dtype=np.int64)
    prev = np.zeros(w * bpp, dtype=np.int64)
    for y in range(h):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if kind == 0:
            row = line
        elif kind == 1:  # Sub: a running sum along the row, per channel
            row = line.reshape(w, bpp).cumsum(axis=0).ravel() & 255
        elif kind == 2:
            row = (line + prev) & 255
        else:  # Average, Paeth: each byte depends on the one decoded to its left
            r, u, raw_line = [0] * (bpp + w * bpp), [0] * bpp + prev.tolist(), line.tolist()
            for i, v in enumerate(raw_line):
                a, b, c = r[i], u[i + bpp], u[i]
                if kind == 3:
                    pred = (a + b) >> 1
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                r[i + bpp] = (v + pred) & 255
            row = np.array(r[bpp:], dtype=np.int64)
        out[y], prev = row, row
    return out.reshape(h, w, bpp)[:, :, :3]


def _assert_draws_arc_grids(png: bytes) -> None:
    """Not blank, and at least four ARC colours on screen (the grids of the first card)."""
    px = _png_pixels(png).reshape(-1, 3)
    assert len(np.unique(px @ [1 << 16, 1 << 8, 1])) > 20, "the screenshot is (nearly) blank"
    rgb = {c: [int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in PALETTE[1:]}
    seen = [c for c, v in rgb.items() if (np.abs(px - v).max(axis=1) <= 2).sum() > 30]
    assert len(seen) >= 4, f"ARC colours on screen: {seen}"


def test_report_in_browser(run_dir, tmp_path):
    """Cards, statuses and the filter buttons, driven with Playwright (or Chromium's command line without it)."""
    exe = _chromium()
    path = write_report(run_dir)
    summary = _summary(run_dir)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _check_with_command_line(exe, path, summary, tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            page.goto(path.as_uri())

            def visible() -> list[str]:
                return page.eval_on_selector_all(
                    ".task-card", "els => els.filter(e => e.offsetParent !== null).map(e => e.dataset.task)")

            assert page.locator(".task-card").count() == len(TASKS) == len(visible())
            assert page.locator('.task-card[data-status="solved"]').count() == summary["score"]["tasks_correct"]
            page.click('nav button[data-filter="solved"]')
            assert visible() == summary["score"]["solved"]
            page.click('nav button[data-filter="failed"]')
            assert visible() == list(summary["failed"])
            page.click('nav button[data-filter="all"]')
            page.fill("#search", "WIDE")
            assert visible() == ["dd_wide"]
            page.fill("#search", "")
            assert len(visible()) == len(TASKS)
            png = page.screenshot()
        finally:
            browser.close()
    _assert_draws_arc_grids(png)


def _check_with_command_line(exe: str, path: Path, summary: dict, tmp_path: Path) -> None:
    """The same checks through `chromium --headless`: the DOM after the page's script ran, and a screenshot."""
    base = [exe, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", path.as_uri() + "#status=solved"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    cards = re.findall(r'<section class="task-card[^>]*>', dom)
    assert len(cards) == len(TASKS)
    shown = [re.search(r'data-task="([^"]*)"', c).group(1) for c in cards if "hidden" not in c]
    assert shown == summary["score"]["solved"]  # the #status=solved filter applied by the page's script
    shot = tmp_path / "shot.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1100,800", path.as_uri()], capture_output=True,
                   timeout=120, check=True)
    _assert_draws_arc_grids(shot.read_bytes())


def test_report_with_chromium_command_line(run_dir, tmp_path):
    """The command-line path of the browser test, run even where Playwright is installed."""
    _check_with_command_line(_chromium(), write_report(run_dir), _summary(run_dir), tmp_path)
