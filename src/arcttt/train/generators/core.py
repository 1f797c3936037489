"""Family type, registry, task generation and the helpers families share.

A *family* is a rule ``rule(grid, params) -> grid`` plus samplers: one call of
``sample_params(rng, difficulty)`` fixes a task (its hidden parameters), and
``sample_input(rng, params, difficulty)`` draws inputs that the rule maps to
outputs. The rule sees only the input grid and the JSON form of the params, so
``task.meta["params"]`` is enough to recompute every output.

Validity is by construction and checked: grids are uint8, 1..30 per side,
colours 0-9; demonstration inputs are distinct; outputs differ from inputs;
and a family may add a ``check`` that the demonstrations determine its rule.
A failed check resamples (bounded), then raises :class:`ArcTTTError`.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator

import numpy as np

from ...data.tasks import MAX_SIDE, Pair, Task
from ...dsl.reject import Reject
from ...errors import ArcTTTError

SPLITS = ("train", "held-out")


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    split: str
    sample_params: Callable[[np.random.Generator, float], dict]
    sample_input: Callable[[np.random.Generator, dict, float], np.ndarray]
    rule: Callable[[np.ndarray, dict], np.ndarray]
    # check(train_pairs, test_pairs, params) -> bool: do the demonstrations determine the rule?
    check: Callable[[list, list, dict], bool] | None = None
    group: str = ""
    # variants: param key -> its possible values; a task is rejected when another value of one key also
    # explains every demonstration but answers the test differently (the demos would not pin the rule down)
    variants: dict | None = None


FAMILIES: dict[str, Family] = {}


def no_params(rng: np.random.Generator, d: float) -> dict:
    return {}


def family(name: str, description: str, rule, sample_input, params=no_params, split: str = "train",
           check=None, group: str | None = None, variants: dict | None = None) -> Family:
    """Define and register a family (module-level, one call per family)."""
    if name in FAMILIES:
        raise ValueError(f"duplicate generator family {name!r}")
    if split not in SPLITS:
        raise ValueError(f"family {name}: split must be one of {SPLITS}")
    group = group or rule.__module__.rsplit(".", 1)[-1]
    fam = Family(name, description, split, params, sample_input, rule, check, group, variants)
    FAMILIES[name] = fam
    return fam


def variants(name: str, **values: list) -> None:
    """Declare the alternative values of a family's params (see Family.variants)."""
    FAMILIES[name] = replace(FAMILIES[name], variants={**(FAMILIES[name].variants or {}), **values})


def compose(name: str, description: str, base: str, post: Callable[[np.ndarray, dict], np.ndarray],
            post_params=no_params, split: str = "train", post_variants: dict | None = None) -> Family:
    """A new family: `base`'s rule followed by `post` (e.g. a geometric transform); params merge."""
    b = FAMILIES[base]

    def params(rng, d):
        p = dict(b.sample_params(rng, d))
        p.update(post_params(rng, d))
        return p

    def rule(g, p):
        return post(b.rule(g, p), p)

    variants = {**(b.variants or {}), **(post_variants or {})} or None
    return family(name, description, rule, b.sample_input, params, split, b.check, "composed", variants)


def get_family(name: str) -> Family:
    if name not in FAMILIES:
        raise ArcTTTError(f"unknown generator family '{name}' (see `arcttt generate --list`)")
    return FAMILIES[name]


def list_families(split: str | None = None) -> list[Family]:
    if split is not None and split not in SPLITS:
        raise ArcTTTError(f"unknown split '{split}'; splits are: {', '.join(SPLITS)}")
    return [f for f in FAMILIES.values() if split is None or f.split == split]


# ---------------------------------------------------------------- generation

def _rng(name: str, seed: int, difficulty: float) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(name.encode()), int(seed), int(round(difficulty * 1000))])


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"params value {obj!r} is not JSON-able")


def _as_grid(g, what: str) -> np.ndarray:
    g = np.asarray(g)
    if g.ndim != 2 or not (1 <= g.shape[0] <= MAX_SIDE and 1 <= g.shape[1] <= MAX_SIDE):
        raise Reject(f"{what}: bad shape {g.shape}")
    if g.dtype != np.uint8:
        if g.size and (g.min() < 0 or g.max() > 9):
            raise Reject(f"{what}: colour outside 0-9")
        g = g.astype(np.uint8)
    elif g.max() > 9:
        raise Reject(f"{what}: colour outside 0-9")
    return np.ascontiguousarray(g)


def _explains(fam: Family, pairs: list, params: dict) -> bool:
    try:
        return all(np.array_equal(fam.rule(p.input, params), p.output) for p in pairs)
    except Reject:
        return False


def _pinned_down(fam: Family, train: list, test: list, params: dict) -> bool:
    """No other value of a variant key explains the demonstrations yet answers the test differently."""
    for key, values in (fam.variants or {}).items():
        for v in values:
            alt = dict(params, **{key: v})
            if v != params[key] and _explains(fam, train, alt) and not _explains(fam, test, alt):
                return False
    return True


def task_id(name: str, seed: int, difficulty: float) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"gen-{name}-{difficulty:.2f}-{seed}")


def generate_task(family_name: str, seed: int, difficulty: float, n_train: int | None = None,
                  n_test: int = 1, max_tries: int = 50) -> Task:
    """One task of a family; deterministic per (family, seed, difficulty)."""
    fam = get_family(family_name)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArcTTTError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0.0 <= float(difficulty) <= 1.0:
        raise ArcTTTError(f"difficulty must be in [0, 1], got {difficulty!r}")
    if n_train is not None and not 1 <= n_train <= 10:
        raise ArcTTTError(f"n_train must be 1..10, got {n_train}")
    if not 1 <= n_test <= 5:
        raise ArcTTTError(f"n_test must be 1..5, got {n_test}")
    difficulty = float(difficulty)
    rng = _rng(fam.name, seed, difficulty)
    last = "no attempt"
    for _ in range(max_tries):
        try:
            params = json.loads(json.dumps(_jsonable(fam.sample_params(rng, difficulty))))
        except Reject as e:
            last = f"params: {e}"
            continue
        k = int(n_train) if n_train is not None else int(rng.integers(3, 6))
        need = k + n_test
        pairs: list[Pair] = []
        seen: set = set()
        fails = 0
        while len(pairs) < need and fails < 8 * need:
            try:
                inp = _as_grid(fam.sample_input(rng, params, difficulty), "input")
                out = _as_grid(fam.rule(inp, params), "output")
            except Reject as e:
                last = str(e) or "rejected draw"
                fails += 1
                continue
            key = (inp.shape, inp.tobytes())
            if key in seen:
                last = "duplicate input"
                fails += 1
                continue
            if inp.shape == out.shape and np.array_equal(inp, out):
                last = "output equals input"
                fails += 1
                continue
            seen.add(key)
            pairs.append(Pair(inp, out))
        if len(pairs) < need:
            continue
        train, test = pairs[:k], pairs[k:]
        if (fam.check is not None and not fam.check(train, test, params)) or not _pinned_down(fam, train, test, params):
            last = "demonstrations do not determine the rule"
            continue
        meta = {"family": fam.name, "split": fam.split, "seed": int(seed), "difficulty": difficulty,
                "params": params}
        return Task(task_id(fam.name, seed, difficulty), train, test, source=f"generated:{fam.name}", meta=meta)
    raise ArcTTTError(f"generator family '{fam.name}' could not make a valid task for seed {seed}, "
                      f"difficulty {difficulty:.2f} after {max_tries} tries (last problem: {last})")


def resolve_families(spec: str | Iterable[str]) -> list[str]:
    """'all', 'train', 'held-out', or comma-separated names (or a list of names) -> family names."""
    if isinstance(spec, str):
        if spec == "all":
            return list(FAMILIES)
        if spec in SPLITS:
            return [f.name for f in list_families(spec)]
        names = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        names = list(spec)
    if not names:
        raise ArcTTTError("no generator families given")
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ArcTTTError(f"unknown generator families: {', '.join(unknown)} (see `arcttt generate --list`)")
    return names


def generate_many(families: str | Iterable[str] = "all", per_family: int = 1,
                  difficulty: float | tuple[float, float] = (0.0, 1.0), seed: int = 0,
                  workers: int = 1) -> Iterator[Task]:
    """`per_family` tasks of each family; difficulties spread evenly over [lo, hi]; seeds from `seed` up.

    With workers > 1 the families are generated in that many processes: the same tasks in the
    same order (each task depends only on its family, seed and difficulty), a pool of tens of
    thousands of tasks in a fraction of the time.
    """
    names = resolve_families(families)
    lo, hi = (difficulty, difficulty) if isinstance(difficulty, (int, float)) else difficulty
    if not 0.0 <= lo <= hi <= 1.0:
        raise ArcTTTError(f"difficulty range must satisfy 0 <= lo <= hi <= 1, got {lo}:{hi}")
    if per_family < 1:
        raise ArcTTTError(f"per_family must be at least 1, got {per_family}")
    jobs = [(name, per_family, lo, hi, seed) for name in names]
    if workers <= 1 or len(jobs) < 2:
        for job in jobs:
            yield from _family_tasks(job)
        return
    import multiprocessing

    # spawn, not fork: the caller may already run torch's thread pools, which a forked child can inherit locked
    with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        for tasks in pool.imap(_family_tasks, jobs):
            yield from tasks


def _family_tasks(job: tuple[str, int, float, float, int]) -> list[Task]:
    name, per_family, lo, hi, seed = job
    out = []
    for i in range(per_family):
        d = lo if per_family == 1 else lo + (hi - lo) * i / (per_family - 1)
        out.append(generate_task(name, seed + i, round(d, 3)))
    return out


# ---------------------------------------------------------------- sampling helpers

def scaled(rng: np.random.Generator, d: float, lo: int, hi: int) -> int:
    """An int in [lo, top] where top grows from ~lo+35% of the range (d=0) to hi (d=1)."""
    top = lo + int(round((hi - lo) * (0.35 + 0.65 * d)))
    return int(rng.integers(lo, max(lo, top) + 1))


def colours(rng: np.random.Generator, k: int, exclude: Iterable[int] = (0,)) -> list[int]:
    pool = [c for c in range(10) if c not in set(exclude)]
    return [int(c) for c in rng.choice(pool, size=k, replace=False)]


def colour(rng: np.random.Generator, exclude: Iterable[int] = (0,)) -> int:
    return colours(rng, 1, exclude)[0]


def noise(rng: np.random.Generator, h: int, w: int, density: float, cols: list[int], bg: int = 0) -> np.ndarray:
    g = np.full((h, w), bg, np.uint8)
    m = rng.random((h, w)) < density
    g[m] = rng.choice(cols, size=int(m.sum()))
    return g


def random_shape(rng: np.random.Generator, h: int, w: int, fill: float = 0.6) -> np.ndarray:
    """A 4-connected boolean mask whose bounding box is exactly h x w."""
    m = np.zeros((h, w), bool)
    if h == 1 or w == 1:
        m[:] = True
        return m
    # a path across rows and columns guarantees the full bounding box, growth adds bulk
    r, c = int(rng.integers(h)), 0
    m[r, c] = True
    while c < w - 1:
        c += 1
        m[r, c] = True
    c0 = int(rng.integers(w))
    m[:, c0] = True
    target = max(int(fill * h * w), int(m.sum()))
    while m.sum() < target:
        p = np.pad(m, 1)
        grow = (p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]) & ~m
        cand = np.flatnonzero(grow)
        pick = rng.choice(cand, size=min(len(cand), max(1, (target - int(m.sum())) // 2 + 1)), replace=False)
        m.flat[pick] = True
    return m


def place(rng: np.random.Generator, occupied: np.ndarray, shape: tuple[int, int], gap: int = 1,
          tries: int = 30) -> tuple[int, int] | None:
    """A top-left corner where a shape's box fits with `gap` free cells around it; marks it occupied."""
    H, W = occupied.shape
    h, w = shape
    if h > H or w > W:
        return None
    for _ in range(tries):
        r, c = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
        if not occupied[max(0, r - gap):r + h + gap, max(0, c - gap):c + w + gap].any():
            occupied[r:r + h, c:c + w] = True
            return r, c
    return None


def scatter_objects(rng, h, w, shapes: list[np.ndarray], cols: list[int], bg: int = 0, gap: int = 1,
                    grid: np.ndarray | None = None, occupied: np.ndarray | None = None):
    """Place masks (each with its colour) without touching; Reject if they do not fit."""
    g = np.full((h, w), bg, np.uint8) if grid is None else grid
    occ = np.zeros((h, w), bool) if occupied is None else occupied
    spots = []
    for m, c in zip(shapes, cols):
        pos = place(rng, occ, m.shape, gap)
        if pos is None:
            raise Reject("objects do not fit")
        r, cc = pos
        g[r:r + m.shape[0], cc:cc + m.shape[1]][m] = c
        spots.append(pos)
    return g, spots


def random_objects(rng, d, h, w, n, cols, min_side=1, max_side=4, fill=0.6, bg=0, gap=1):
    shapes = [random_shape(rng, int(rng.integers(min_side, max_side + 1)),
                           int(rng.integers(min_side, max_side + 1)), fill) for _ in range(n)]
    return scatter_objects(rng, h, w, shapes, cols, bg, gap)


# grid analysis lives in arcttt.dsl (shared with the program search); re-exported here so families import helpers from one place
from ...dsl.analysis import Obj, bbox, counts, label, objects, reachable_from_border, shift, unique_argmax  # noqa: E402,F401

# checks ---------------------------------------------------------------------

def demo_colours(train) -> set:
    s = set()
    for p in train:
        s.update(np.unique(p.input).tolist())
    return s


def check_test_colours_seen(train, test, params) -> bool:
    """Every colour of a test input appears in some demonstration input."""
    seen = demo_colours(train)
    return all(set(np.unique(p.input).tolist()) <= seen for p in test)


def check_outputs_vary(train, test, params) -> bool:
    """Not every demonstration has the same output (else the task is just 'draw this')."""
    keys = {(p.output.shape, p.output.tobytes()) for p in train}
    return len(keys) > 1


def any_grid(rng, d, lo: int = 2, hi: int = 14, cols: list[int] | None = None, density: float | None = None,
             h: int | None = None, w: int | None = None) -> np.ndarray:
    """A random grid: size and colour count grow with difficulty, background 0."""
    h = scaled(rng, d, lo, hi) if h is None else h
    w = scaled(rng, d, lo, hi) if w is None else w
    if cols is None:
        cols = colours(rng, scaled(rng, d, 1, 5))
    if density is None:
        density = float(rng.uniform(0.25, 0.75))
    return noise(rng, h, w, density, cols)
