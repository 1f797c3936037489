"""Test-time training data: leave-one-out tasks built from a task's demonstrations only.

For a task with K demonstrations, leave-one-out gives K examples (K-1 demos as
context, the held-out pair as query); leave-two-out tops up when there are too
few. Each passes through the chosen invertible transforms, with a random colour
permutation and demonstration order; grids over 30x30 (or over the task's own largest
side, where that is larger) and sequences over the token limit are dropped, duplicates
removed, and the result capped.

Test outputs are never read here: only `task.train` is used.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ..data.codec import sequence_length
from ..data.tasks import Pair, Task, grid_key
from ..data.transforms import EXTRA_NAMES, SYMMETRY_NAMES, compose, order_permutation, parse, random_colour_permutation
from ..errors import ArcTTTError
from ..seeding import rng_for
from .config import TTTDataConfig


@dataclass
class TTTExample:
    """One training sequence: context demonstrations and a query pair, and how it was made."""

    demos: list[Pair]
    query: Pair
    transform: str = "identity"
    meta: dict = field(default_factory=dict)

    def key(self) -> tuple:
        grids = [g for p in self.demos for g in (p.input, p.output)] + [self.query.input, self.query.output]
        return tuple(grid_key(g) for g in grids)


def transform_names(spec: str) -> list[str]:
    if spec == "all":
        return list(SYMMETRY_NAMES) + list(EXTRA_NAMES)
    if spec == "symmetries":
        return list(SYMMETRY_NAMES)
    if spec == "none":
        return ["identity"]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    for n in names:
        parse(n)  # raises on unknown names
    return names


def base_examples(task: Task, config: TTTDataConfig) -> list[TTTExample]:
    """Leave-one-out (and leave-two-out) splits of the demonstrations, before augmentation."""
    demos = task.train
    if not config.leave_one_out:
        return [TTTExample([], p) for p in demos]
    if len(demos) < 2:
        raise ArcTTTError(f"task {task.id}: leave-one-out needs at least 2 demonstrations, it has {len(demos)}")
    out = [TTTExample([d for j, d in enumerate(demos) if j != i], demos[i]) for i in range(len(demos))]
    if len(out) < config.leave_two_out_below and len(demos) >= 3:
        for i, j in itertools.permutations(range(len(demos)), 2):
            out.append(TTTExample([d for k, d in enumerate(demos) if k not in (i, j)], demos[i]))
    return out


def _fits(ex: TTTExample, max_tokens: int | None, max_side: int) -> bool:
    grids = [g for p in ex.demos for g in (p.input, p.output)] + [ex.query.input, ex.query.output]
    if any(g.shape[0] > max_side or g.shape[1] > max_side for g in grids):
        return False
    return max_tokens is None or sequence_length(ex.demos, ex.query.input, ex.query.output) <= max_tokens


def build_ttt_dataset(task: Task, config: TTTDataConfig | None = None, seed: int = 0) -> list[TTTExample]:
    """The augmented leave-one-out dataset of one task, deterministic in (seed, task id)."""
    config = config or TTTDataConfig()
    rng = rng_for(seed, task.id, "ttt_data")
    names = transform_names(config.transforms)
    max_side = task.grid_limit()  # augmented grids (upscaled, tiled) may not outgrow ARC's 30 or the task's own
    augment = config.transforms != "none"
    examples: list[TTTExample] = []
    seen: set[tuple] = set()
    for base_index, base in enumerate(base_examples(task, config)):
        for name in names:
            for _ in range(config.copies):
                parts = [parse(name)]
                if augment and config.colour_permutation:
                    parts.append(random_colour_permutation(rng, config.keep_black))
                if augment and config.order_permutation and len(base.demos) > 1:
                    parts.append(order_permutation(rng.permutation(len(base.demos))))
                t = compose(*parts)
                view = t.apply_task(Task(task.id, base.demos, [base.query]))
                ex = TTTExample(view.train, view.test[0], t.name, {"base": base_index})
                if not _fits(ex, config.max_tokens, max_side):
                    continue
                k = ex.key()
                if k in seen:
                    continue
                seen.add(k)
                examples.append(ex)
    if len(examples) > config.max_examples:
        keep = sorted(rng.choice(len(examples), config.max_examples, replace=False))
        examples = [examples[i] for i in keep]
    return examples
