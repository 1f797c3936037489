"""The generators' README.md: a fixed introduction and the table of families, built from the registry.

`python -m arcttt.train.generators` rewrites the file; a test checks that it is current."""

from __future__ import annotations

from .core import list_families


def families_table() -> str:
    """The markdown table of families (family, split, description) for the README."""
    rows = ["| family | split | group | description |", "|---|---|---|---|"]
    for f in sorted(list_families(), key=lambda f: (f.split != "train", f.group, f.name)):
        rows.append(f"| `{f.name}` | {f.split} | {f.group} | {f.description} |")
    return "\n".join(rows)


README_HEAD = """# Synthetic ARC task generators

`arcttt.generators` is a registry of task *families*, written from scratch. A family is a rule (a pure
function of an input grid and the family's sampled parameters), a parameter sampler and an input sampler;
`difficulty` in [0, 1] scales grid size, object count, noise and the number of colours. One parameter draw
defines one task: all its demonstrations and its test pair obey it.

```python
from arcttt.train.generators import generate_task, generate_many, list_families
task = generate_task("gravity", seed=3, difficulty=0.5)     # deterministic per (family, seed, difficulty)
task.meta   # {"family", "split", "seed", "difficulty", "params"}: the rule recomputes every output
tasks = generate_many("train", per_family=100, difficulty=(0.0, 1.0), seed=0)
```

Command line: `arcttt generate --families all|train|held-out|NAME,... --per-family N --difficulty LO:HI
--seed S --out DIR` writes one ARC task JSON per task; `--list` lists the families; `--gallery FILE.html`
draws one example task per family.

Validity by construction: every grid is uint8, 1-30 per side, colours 0-9; demonstration and test inputs
are distinct; outputs differ from inputs; families add cheap checks that the demonstrations determine the
rule (e.g. every colour of a colour map is shown). A failed draw is resampled a bounded number of times,
then `ArcTTTError` is raised.

## Splits

Families are split into **train** (use them to make training data) and **held-out** (keep them out of
training to measure transfer). Held-out families are different transformations, not harder variants of
training families: fractal self-tiling, kaleidoscopes, colour legends, colouring by a header row, sorting
bars, diagonal rays, checkerboard fills, concentric rings, summarising and filling separator cells,
histograms, copying an in-grid template, continuing a periodic pattern, parity colouring and reflection
over a marker in 1-D.

This table is generated from the registry (`python -m arcttt.train.generators` rewrites this file).

"""


def render_readme() -> str:
    train, held = len(list_families("train")), len(list_families("held-out"))
    return README_HEAD + f"{train + held} families: {train} train, {held} held-out.\n\n" + families_table() + "\n"
