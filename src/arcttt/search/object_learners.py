"""Learned last steps over the grid's components: each object, or each region of the background, takes
the colour that one of its properties decides, with the table read off the demonstrations.

Objects are the 4-connected cells of any non-background colour; background regions are the
4-connected regions of the background (the gaps, holes and rooms between objects), so a rule such as
"the enclosed square rooms turn red" or "the largest gap turns blue" is one table. As everywhere in
the learners, a table must cover every property value the test inputs show.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..dsl.analysis import objects
from .finish import Finish, same_shapes
from .program import primitive

OBJECT_PROPERTIES = ("size", "size_rank", "size_extreme", "colour", "height", "width", "is_rectangle",
                     "is_square", "has_hole", "touches_border", "shape")
"""Properties of an object, in the order the learner tries them; every table that fits is offered (the
order breaks ties between programs of the same cost)."""

REGION_PROPERTIES = ("size_extreme", "is_rectangle", "is_square", "touches_border", "size", "size_rank", "shape")
"""Properties of a background region (colour and holes say nothing about one)."""

COMPONENTS = ("objects", "background")


def components(g: np.ndarray, which: str) -> list:
    """The objects of the grid, or the 4-connected regions of its background (as objects of colour 1)."""
    if which == "objects":
        return objects(g, by_colour=False)
    return objects((g == 0).astype(np.uint8), by_colour=False)


def object_property(o, prop: str, grid: np.ndarray, sizes: list[int]) -> object:
    """One property of a component; `sizes` are the distinct sizes of the grid's components, largest first."""
    h, w = grid.shape
    if prop == "size":
        return o.size
    if prop == "size_rank":
        return sizes.index(o.size)
    if prop == "size_extreme":
        return "largest" if o.size == sizes[0] else "smallest" if o.size == sizes[-1] else "middle"
    if prop == "colour":
        return o.colour
    if prop == "height":
        return o.shape[0]
    if prop == "width":
        return o.shape[1]
    if prop == "is_rectangle":
        return bool(o.mask.all())
    if prop == "is_square":
        return bool(o.mask.all()) and o.shape[0] == o.shape[1]
    if prop == "has_hole":
        return bool((ndimage.binary_fill_holes(o.mask) & ~o.mask).any())
    if prop == "touches_border":
        return o.r == 0 or o.c == 0 or o.r + o.shape[0] == h or o.c + o.shape[1] == w
    return (o.shape, o.mask.tobytes().hex())


def _sizes(objs) -> list[int]:
    return sorted({o.size for o in objs}, reverse=True)


@primitive("recolour_objects")
def recolour_objects(g: np.ndarray, prop: str, table: dict, which: str = "objects") -> np.ndarray:
    """Each component (`which`: 'objects' or 'background' regions) takes the colour `table` gives its
    property; components whose property is not in the table stay."""
    out = g.copy()
    objs = components(g, which)
    sizes = _sizes(objs)
    for o in objs:
        value = object_property(o, prop, g, sizes)
        if value in table:
            o.crop(out)[o.mask] = table[value]
    return out


def learn_object_recolour(outs, targets, prop: str, which: str = "objects"):
    """The table from a component's property to its colour in the outputs, if one fits every demonstration
    and the cells outside the components are already right."""
    if not same_shapes(outs, targets):
        return None
    table: dict = {}
    for o, t in zip(outs, targets):
        objs = components(o, which)
        if not objs:
            return None
        covered = np.zeros(o.shape, bool)
        sizes = _sizes(objs)
        for ob in objs:
            cells = ob.crop(t)[ob.mask]
            if (cells != cells[0]).any():
                return None
            if table.setdefault(object_property(ob, prop, o, sizes), int(cells[0])) != int(cells[0]):
                return None
            ob.crop(covered)[ob.mask] = True
        if not np.array_equal(o[~covered], t[~covered]):
            return None
    if all(isinstance(k, tuple) for k in table) and prop != "shape":
        return None
    seen = set(table)

    def covers(g):
        objs = components(g, which)
        sizes = _sizes(objs)
        return all(object_property(ob, prop, g, sizes) in seen for ob in objs)

    literals = (prop, table) if which == "objects" else (prop, table, which)
    return Finish("recolour_objects", literals, 2, covers)


def learn_component_recolour(outs, targets) -> list:
    """Every property table that fits, for objects, then for background regions: several may fit the
    demonstrations while only some cover the test inputs (a size seen nowhere before, say)."""
    found = []
    for which, props in (("objects", OBJECT_PROPERTIES), ("background", REGION_PROPERTIES)):
        for prop in props:
            f = learn_object_recolour(outs, targets, prop, which)
            if f is not None:
                found.append(f)
    return found
