"""The search's catalogue of grid -> grid steps: the generator's train families and the dsl's extras.

Every train family of arcttt.train.generators is a primitive here under its own name, called with
the family's parameters as keywords (``gravity(x, dir='down')``): the rule that generates a family's
training tasks is the very step the search tries. A family's parameters are enumerated: keys with a
few values (an axis, a direction, a factor) over the values its sampler draws, colour keys over the
colours the task's demonstrations use. Families whose parameters are tables (a colour map, a size ->
colour map) are left to the final learners (arcttt.search.learners), which infer such tables.
Held-out families are not used: they measure transfer, and a search that knew them would not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..dsl import borders, counting, grid_ops, parts, symmetry
from ..dsl import objects as dsl_objects
from ..dsl.analysis import ROLES, role_colour
from ..dsl.reject import Reject
from ..train.generators import get_family, list_families
from .program import PRIMITIVES, Call, Program, primitive


@dataclass(frozen=True)
class Step:
    """One instantiated primitive: fn(grid, **keywords). `inner`: whether it is tried after another step
    too (the structural steps: symmetries, crops, colour filters, gravity, parts), or only first."""

    fn: str
    keywords: tuple[tuple[str, object], ...] = ()
    inner: bool = True

    def wrap(self, program: Program) -> Call:
        return Call(self.fn, program, (), self.keywords)

    def apply(self, grid: np.ndarray) -> np.ndarray:
        return PRIMITIVES[self.fn](grid, **dict(self.keywords))


def _family_primitive(fam, colour_keys: tuple[str, ...]):
    def call(grid: np.ndarray, **params) -> np.ndarray:
        for k in colour_keys:  # a colour named by its role in the grid (arcttt.dsl.analysis.role_colour)
            if isinstance(params.get(k), str):
                params[k] = role_colour(grid, params[k])
        return fam.rule(grid, params)
    return call


INNER_GROUPS = ("geometry", "colour")
"""Generator groups whose steps are also tried after another step (the others only come first)."""

COLOUR_KEY_MIN_VALUES = 8
"""A parameter whose sampled values are integers 0-9, at least this many distinct, is a colour."""


@cache
def family_spaces() -> dict[str, tuple[dict[str, tuple], tuple[str, ...], bool]]:
    """Family name -> (enumerable key -> values, colour keys, whether a colour key may be 0), for every
    train family whose parameters are all scalars, with at most two colour keys."""
    out = {}
    for fam in list_families("train"):
        if fam.group == "composed":  # compositions of other families: the search composes them itself
            continue
        seen: dict[str, set] = {}
        usable = True
        for seed in range(64):
            rng = np.random.default_rng(seed)
            try:
                params = fam.sample_params(rng, seed / 64)
            except Reject:
                continue
            for k, v in params.items():
                if isinstance(v, (dict, list, tuple, np.ndarray)):
                    usable = False
                    break
                seen.setdefault(k, set()).add(v if not isinstance(v, np.generic) else v.item())
        if not usable:
            continue
        colour_keys = tuple(k for k, vs in seen.items() if len(vs) >= COLOUR_KEY_MIN_VALUES
                            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 9 for v in vs))
        if len(colour_keys) > 2:
            continue
        declared = fam.variants or {}
        enum = {k: tuple(declared.get(k) or sorted(vs, key=repr)) for k, vs in seen.items() if k not in colour_keys}
        zero_ok = any(0 in seen[k] for k in colour_keys)
        out[fam.name] = (enum, colour_keys, zero_ok)
        primitive(fam.name)(_family_primitive(fam, colour_keys))
    return out


def family_steps(colours: list[int]) -> list[Step]:
    """Every instantiation of every searchable family, colour keys over `colours` (the task's)."""
    steps = []
    for name, (enum, colour_keys, zero_ok) in family_spaces().items():
        keys = list(enum)
        cols = [c for c in colours if zero_ok or c != 0]
        colour_values = list(itertools.permutations(cols, len(colour_keys)))
        if len(colour_keys) == 1:
            colour_values += [(role,) for role in ROLES]
        for values in itertools.product(*(enum[k] for k in keys)):
            for cvals in colour_values:
                kw = tuple(sorted(zip(keys + list(colour_keys), list(values) + list(cvals))))
                steps.append(Step(name, kw, inner=get_family(name).group in INNER_GROUPS))
    return steps


# ---------------------------------------------------------------- the dsl's extras

EXTRAS = {
    # parts of a grid (arcttt.dsl.parts)
    "combine_parts": parts.combine_parts, "overlay_parts": parts.overlay_parts, "odd_part": parts.odd_part,
    "nest_parts": parts.nest_parts, "fill_parts": parts.fill_parts, "connect_parts": parts.connect_parts,
    "pick_part": parts.pick_part, "parts_summary": parts.parts_summary, "take_part": parts.take_part,
    # objects (arcttt.dsl.objects)
    "crop_object": dsl_objects.crop_object, "keep_object": dsl_objects.keep_object,
    "stamp_template": dsl_objects.stamp_template, "crop_colour": dsl_objects.crop_colour,
    # counts (arcttt.dsl.counting)
    "scale_by_count": counting.scale_by_count, "cells_in_a_row": counting.cells_in_a_row,
    # whole grids (arcttt.dsl.grid_ops)
    "fill_enclosed_mark": grid_ops.fill_enclosed, "rays": grid_ops.rays, "connect_pairs": grid_ops.connect_pairs,
    "symmetrize": grid_ops.symmetrize, "self_similar": grid_ops.self_similar,
    "mark_empty_lines": grid_ops.mark_empty_lines,
    "fill_colour_boxes": grid_ops.fill_colour_boxes, "extend_period": grid_ops.extend_period,
    "compress": grid_ops.compress, "fill_periodic": grid_ops.fill_periodic, "period_tile": grid_ops.period_tile,
    "restore_masked": grid_ops.restore_masked,
    # symmetry about a centre (arcttt.dsl.symmetry) and the border (arcttt.dsl.borders)
    "complete_symmetry": symmetry.complete_symmetry,
    "colour_from_border": borders.colour_from_border, "permute_rings": borders.permute_rings,
}
"""The dsl's functions the search uses besides the families, under their search names."""

for _name, _fn in EXTRAS.items():
    primitive(_name)(_fn)


def extra_steps(colours: list[int]) -> list[Step]:
    steps = [Step("combine_parts", (("op", op),)) for op in parts.LOGIC]
    steps += [Step("combine_parts", (("op", op), ("split", split))) for split in parts.EQUAL_SPLITS
              for op in parts.LOGIC if op != "right_only"]
    steps += [Step("overlay_parts")]
    steps += [Step("overlay_parts", (("backward", backward), ("split", split))) for split in parts.PART_SPLITS
              for backward in (False, True) if split != "lines" or backward]
    steps += [Step("nest_parts", (("mask", mask), ("outer", outer), ("split", split))) for split in parts.PART_SPLITS
              for mask in ("first", "second", "one_colour") for outer in ("mask", "pattern")]
    steps += [Step("pick_part", (("select", select), ("split", split))) for split in parts.PART_SPLITS
              for select in parts.PART_SELECTORS]
    steps += [Step("odd_part"), Step("fill_enclosed_mark"), Step("connect_pairs"),
              Step("parts_summary"), Step("self_similar"), Step("compress")]
    steps += [Step("odd_part", (("by", by), ("split", split))) for split in ("lines", "gaps")
              for by in ("look", "colour") if (split, by) != ("lines", "look")]
    steps += [Step("parts_summary", (("split", "gaps"),)), Step("connect_parts")]
    steps += [Step("fill_parts", (("how", how),)) for how in ("main", "most_cells")]
    steps += [Step("self_similar", (("mask", m),)) for m in (*ROLES, *(c for c in colours if c))]
    steps += [Step("mark_empty_lines", (("inner", inner),)) for inner in (False, True)]
    steps += [Step("colour_from_border", (("c", c),)) for c in colours if c]
    steps += [Step("permute_rings", (("how", how),)) for how in ("reverse", "rotate")]
    steps += [Step("complete_symmetry", (("centre", centre), ("group", group), ("mark", mark)))
              for group in symmetry.GROUPS for centre in symmetry.CENTRES for mark in (False, True)]
    steps += [Step("pick_part", (("select", select), ("split", "gaps"))) for select in parts.PART_SELECTORS]
    steps += [Step("connect_pairs", (("diag", True),)), Step("fill_colour_boxes")]
    steps += [Step("connect_pairs", (("lines", lines), ("mark", mark))) for lines in grid_ops.CONNECT_LINES
              for mark in (False, True) if (lines, mark) != ("rows,columns", False)]
    steps += [Step("fill_periodic", (("mask", c),)) for c in colours]
    steps += [Step("fill_periodic", (("mask", c), ("partial", True))) for c in colours]
    steps += [Step("period_tile"), Step("cells_in_a_row")]
    steps += [Step("extend_period", (("axis", axis),)) for axis in ("h", "v")]
    steps += [Step("scale_by_count", (("count", count),)) for count in counting.COUNTS]
    steps += [Step("take_part", (("axis", a), ("i", i), ("n", 3))) for a in ("h", "v") for i in range(3)]
    steps += [Step("restore_masked", (("how", how), ("mask", c))) for c in colours for how in ("symmetry", "period")]
    steps += [Step("crop_object", (("by_colour", by_colour), ("diag", diag), ("select", select)))
              for select in dsl_objects.SELECTORS for by_colour in (False, True) for diag in (False, True)]
    steps += [Step("crop_object", (("by_colour", True), ("diag", False), ("inside", True), ("select", select)))
              for select in dsl_objects.SELECTORS]  # the contents of a frame of one colour
    steps += [Step("keep_object", (("by_colour", by_colour), ("select", select)))
              for select in dsl_objects.SELECTORS for by_colour in (False, True)]
    steps += [Step("stamp_template", (("keep", keep),)) for keep in (True, False)]
    steps += [Step("crop_colour", (("c", c), ("inside", inside))) for c in colours if c for inside in (False, True)]
    steps += [Step("rays", (("directions", d),)) for d in ("u", "d", "l", "r", "ud", "lr", "udlr")]
    steps += [Step("symmetrize", (("how", h),)) for h in grid_ops.SYMMETRIZE]
    return steps


def all_steps(colours: list[int]) -> list[Step]:
    """The catalogue for a task whose demonstrations use `colours`."""
    return family_steps(colours) + extra_steps(colours)
