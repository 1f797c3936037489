"""`arcttt generate`: write synthetic ARC tasks from the generator families, list them, or draw a gallery.

    arcttt generate --families all --per-family 100 --difficulty 0:1 --seed 0 --out data/synth
    arcttt generate --list
    arcttt generate --gallery gallery.html
"""

from __future__ import annotations

import argparse
import html
import json
from pathlib import Path

from .errors import ArcTTTError
from .generators import generate_many, generate_task, get_family, list_families, resolve_families
from .tasks import Task

PALETTE = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
           "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--families", default="all",
                        help="comma-separated family names, or all, train, held-out (default: all)")
    parser.add_argument("--per-family", type=int, default=10, help="tasks per family (default: 10)")
    parser.add_argument("--difficulty", default="0:1",
                        help="LO:HI difficulty range in [0, 1], spread evenly over each family's tasks, or one value")
    parser.add_argument("--seed", type=int, default=0, help="first seed; task i of a family uses seed+i")
    parser.add_argument("--out", help="folder for the task JSON files (one {id}.json per task)")
    parser.add_argument("--list", action="store_true", help="list the families (name, split, description) and exit")
    parser.add_argument("--gallery", metavar="FILE.html", help="write an HTML page with one example task per family")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_difficulty(spec: str) -> tuple[float, float]:
    parts = str(spec).split(":")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise ArcTTTError(f"--difficulty must be LO:HI or a number in [0, 1], got '{spec}'") from None
    if len(vals) == 1:
        vals = vals * 2
    if len(vals) != 2 or not 0.0 <= vals[0] <= vals[1] <= 1.0:
        raise ArcTTTError(f"--difficulty must be LO:HI with 0 <= LO <= HI <= 1, got '{spec}'")
    return vals[0], vals[1]


def list_lines() -> list[str]:
    fams = list_families()
    width = max(len(f.name) for f in fams)
    return [f"{f.name:<{width}}  {f.split:<8}  {f.description}" for f in fams]


def _grid_html(grid) -> str:
    h, w = grid.shape
    cells = "".join(f'<i class="c{int(v)}"></i>' for v in grid.ravel())
    return f'<div class="g" style="grid-template-columns:repeat({w},12px)" title="{h}x{w}">{cells}</div>'


def gallery_html(tasks: list[tuple[object, Task]]) -> str:
    css = "".join(f".c{i}{{background:{c}}}" for i, c in enumerate(PALETTE))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>arcttt generator gallery</title><style>",
        "body{font-family:sans-serif;background:#222;color:#eee;margin:16px}",
        ".fam{border-top:1px solid #555;padding:8px 0}.pairs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}",
        ".pair{display:flex;gap:6px;align-items:center;background:#333;padding:6px}",
        ".g{display:grid;gap:1px;background:#555;border:1px solid #555}.g i{display:block;width:12px;height:12px}",
        ".held-out{color:#ffb347}.train{color:#8fd18f}.test{outline:2px dashed #ccc}",
        css, "</style></head><body>",
        f"<h1>arcttt generator gallery</h1><p>{len(tasks)} families, one example task each "
        "(demonstrations, then the test pair with a dashed outline).</p>",
    ]
    for fam, task in tasks:
        pairs = []
        for kind, plist in (("train", task.train), ("test", task.test)):
            for p in plist:
                pairs.append(f'<div class="pair {"test" if kind == "test" else ""}">{_grid_html(p.input)}'
                             f'<span>&rarr;</span>{_grid_html(p.output)}</div>')
        parts.append(
            f'<div class="fam" id="{html.escape(fam.name)}"><h3>{html.escape(fam.name)} '
            f'<small class="{fam.split}">[{fam.split}]</small></h3>'
            f"<p>{html.escape(fam.description)} <small>({html.escape(task.id)}, params "
            f"{html.escape(json.dumps(task.meta['params']))})</small></p>"
            f'<div class="pairs">{"".join(pairs)}</div></div>')
    parts.append("</body></html>")
    return "\n".join(parts)


def write_gallery(path: str | Path, families: list[str], seed: int = 0, difficulty: float = 0.5) -> int:
    tasks = [(get_family(n), generate_task(n, seed, difficulty)) for n in families]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(gallery_html(tasks))
    return len(tasks)


def run(args: argparse.Namespace) -> int:
    if args.list:
        for line in list_lines():
            print(line)
        return 0
    names = resolve_families(args.families)
    lo, hi = parse_difficulty(args.difficulty)
    if args.seed < 0:
        raise ArcTTTError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.gallery:
        n = write_gallery(args.gallery, names, args.seed, round((lo + hi) / 2, 3))
        print(f"wrote a gallery of {n} families to {args.gallery}")
        if not args.out:
            return 0
    if not args.out:
        raise ArcTTTError("arcttt generate needs --out DIR (or --list, or --gallery FILE.html)")
    if args.per_family < 1:
        raise ArcTTTError(f"--per-family must be at least 1, got {args.per_family}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ArcTTTError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    total = len(names) * args.per_family
    written = 0
    with tqdm(total=total, desc="generate", unit="task", disable=args.quiet) as bar:
        for task in generate_many(names, args.per_family, (lo, hi), args.seed):
            with open(out / f"{task.id}.json", "w") as f:
                json.dump(task.to_json(), f)
            written += 1
            bar.update(1)
    print(f"wrote {written} tasks from {len(names)} families to {out}")
    return 0
