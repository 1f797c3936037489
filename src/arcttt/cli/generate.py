"""`arcttt generate`: write synthetic ARC tasks from the generator families, list them, or draw a gallery.

    arcttt generate --families all --per-family 100 --difficulty 0:1 --seed 0 --out data/synth
    arcttt generate --list
    arcttt generate --gallery gallery.html
"""

from __future__ import annotations

import argparse
import html
import json
from dataclasses import dataclass
from pathlib import Path

from ..data.render import GRID_CSS, grid_html
from ..data.tasks import Task
from ..errors import ArcTTTError
from ..fields import option
from ..train.generators import generate_many, generate_task, get_family, list_families, resolve_families
from .options import add_config_flags, config_from_args


@dataclass
class GenerateOptions:
    """What `arcttt generate` writes."""

    families: str = "all"
    """Comma-separated family names, or all, train, held-out."""
    per_family: int = 10
    """Tasks per family."""
    difficulty: tuple[float, float] = option((0.0, 1.0), metavar="LO:HI")
    """Difficulty range in [0, 1], spread evenly over each family's tasks (LO:HI, or one value)."""
    seed: int = 0
    """First seed; task i of a family uses seed + i."""
    out: str | None = None
    """Folder for the task JSON files (one {id}.json per task)."""
    list: bool = False
    """List the families (name, split, description) and exit."""
    gallery: str | None = option(None, metavar="FILE.html")
    """Write an HTML page with one example task per family."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_flags(parser, GenerateOptions)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def check_difficulty(lo: float, hi: float) -> tuple[float, float]:
    if not 0.0 <= lo <= hi <= 1.0:
        raise ArcTTTError(f"--difficulty must be LO:HI with 0 <= LO <= HI <= 1, got {lo}:{hi}")
    return lo, hi


def list_lines() -> list[str]:
    fams = list_families()
    width = max(len(f.name) for f in fams)
    return [f"{f.name:<{width}}  {f.split:<8}  {f.description}" for f in fams]


def gallery_html(tasks: list[tuple[object, Task]]) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>arcttt generator gallery</title><style>",
        "body{font-family:sans-serif;background:#222;color:#eee;margin:16px}",
        ".fam{border-top:1px solid #555;padding:8px 0}.pairs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}",
        ".pair{display:flex;gap:6px;align-items:center;background:#333;padding:6px}",
        ".held-out{color:#ffb347}.train{color:#8fd18f}.test{outline:2px dashed #ccc}",
        GRID_CSS, "</style></head><body>",
        (f"<h1>arcttt generator gallery</h1><p>{len(tasks)} families, one example task each "
         "(demonstrations, then the test pair with a dashed outline).</p>"),
    ]
    for fam, task in tasks:
        pairs = []
        for kind, plist in (("train", task.train), ("test", task.test)):
            for p in plist:
                pairs.append(f'<div class="pair {"test" if kind == "test" else ""}">{grid_html(p.input)}'
                             f'<span>&rarr;</span>{grid_html(p.output)}</div>')
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
    opts = config_from_args(GenerateOptions, args)
    if opts.list:
        for line in list_lines():
            print(line)
        return 0
    names = resolve_families(opts.families)
    lo, hi = check_difficulty(*opts.difficulty)
    if opts.seed < 0:
        raise ArcTTTError(f"--seed must be a non-negative integer, got {opts.seed}")
    if opts.gallery:
        n = write_gallery(opts.gallery, names, opts.seed, round((lo + hi) / 2, 3))
        print(f"wrote a gallery of {n} families to {opts.gallery}")
        if not opts.out:
            return 0
    if not opts.out:
        raise ArcTTTError("arcttt generate needs --out DIR (or --list, or --gallery FILE.html)")
    if opts.per_family < 1:
        raise ArcTTTError(f"--per-family must be at least 1, got {opts.per_family}")
    out = Path(opts.out)
    if out.exists() and not out.is_dir():
        raise ArcTTTError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    total = len(names) * opts.per_family
    written = 0
    with tqdm(total=total, desc="generate", unit="task", disable=args.quiet) as bar:
        for task in generate_many(names, opts.per_family, (lo, hi), opts.seed):
            with open(out / f"{task.id}.json", "w") as f:
                json.dump(task.to_json(), f)
            written += 1
            bar.update(1)
    print(f"wrote {written} tasks from {len(names)} families to {out}")
    return 0
