"""Object primitives: choose one object of a grid by a property and crop to it or keep only it; paint a
multi-coloured template over the objects of its footprint; crop to a colour.

Objects are connected components (arcttt.dsl.analysis.objects): of one colour each or of any colours,
4- or 8-connected. A selector picks the single object that is largest, smallest, the only one of its
colour or its shape, the one with the most colours, the one whose shape is the most common, the only
mirror-symmetric (or the only asymmetric) one, the one with the most (or fewest) cells off its own main
colour, or the top-, bottom-, left- or rightmost one. A tie rejects (the choice would be a guess) unless
the tied objects look the same, so that the crop does not depend on which is chosen.
(Selectors were designed from ARC-AGI-1 training tasks, e.g. 39a8645d, 72ca375d, 8efcae92, 1f85a75f.)
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np

from .analysis import Obj, bbox, objects
from .reject import Reject


def _odd(values: list) -> np.ndarray:
    """1 for the value that occurs once when every other value repeats, else 0."""
    return (_frequency(values) == 1).astype(float)


def _frequency(values: list) -> np.ndarray:
    """How often each value occurs in the list."""
    tally = Counter(values)
    return np.array([tally[v] for v in values], float)


def _cells(o: Obj, g: np.ndarray) -> np.ndarray:
    """The object's box with its own cells' colours and 0 elsewhere."""
    return np.where(o.mask, o.crop(g), 0)


def _looks(o: Obj, g: np.ndarray) -> tuple:
    """What an object looks like: its box's shape and its cells' colours (0 off the object)."""
    cells = _cells(o, g)
    return cells.shape, cells.tobytes()


def _symmetric(o: Obj, g: np.ndarray) -> float:
    cells = _cells(o, g)
    return float(np.array_equal(cells, cells[:, ::-1]) or np.array_equal(cells, cells[::-1]))


def _off_colour(o: Obj, g: np.ndarray) -> int:
    """Cells of the object not of its main colour (the spots on a multi-coloured object)."""
    return int((o.crop(g)[o.mask] != o.colour).sum())


SELECTORS = {
    "largest": lambda objs, g: np.array([o.size for o in objs], float),
    "smallest": lambda objs, g: -np.array([o.size for o in objs], float),
    "odd_colour": lambda objs, g: _odd([o.colour for o in objs]),
    "odd_shape": lambda objs, g: _odd([(o.mask.shape, o.mask.tobytes()) for o in objs]),
    "most_colours": lambda objs, g: np.array([len(np.unique(o.crop(g)[o.mask])) for o in objs], float),
    "common_shape": lambda objs, g: _frequency([_looks(o, g) for o in objs]),
    "symmetric": lambda objs, g: np.array([_symmetric(o, g) for o in objs]),
    "asymmetric": lambda objs, g: 1 - np.array([_symmetric(o, g) for o in objs]),
    "most_spots": lambda objs, g: np.array([_off_colour(o, g) for o in objs], float),
    "fewest_spots": lambda objs, g: -np.array([_off_colour(o, g) for o in objs], float),
    "topmost": lambda objs, g: -np.array([o.r for o in objs], float),
    "bottommost": lambda objs, g: np.array([o.r + o.shape[0] for o in objs], float),
    "leftmost": lambda objs, g: -np.array([o.c for o in objs], float),
    "rightmost": lambda objs, g: np.array([o.c + o.shape[1] for o in objs], float),
}


def select_object(g: np.ndarray, select: str, by_colour: bool = False, diag: bool = False) -> Obj:
    """The one object that `select` (a key of SELECTORS) picks out."""
    chosen = _choose(g.shape, g.tobytes(), g.dtype.str, select, by_colour, diag)
    if chosen is None:
        raise Reject("no single object to choose")
    return chosen


@lru_cache(maxsize=8192)
def _choose(shape, data, dtype, select, by_colour, diag) -> Obj | None:
    """select_object's choice, kept per grid: a search asks for it with and without `inside`."""
    g = np.frombuffer(data, dtype=dtype).reshape(shape)
    objs = objects(g, by_colour=by_colour, diag=diag)
    if len(objs) < 2:
        return None
    scores = SELECTORS[select](objs, g)
    best = np.flatnonzero(scores == scores.max())
    first = _looks(objs[best[0]], g)
    if any(_looks(objs[i], g) != first for i in best[1:]):
        return None  # a tie between objects that look different
    return objs[best[0]]


def crop_object(g: np.ndarray, select: str, by_colour: bool = False, diag: bool = False,
                inside: bool = False) -> np.ndarray:
    """The bounding box of the selected object (with whatever else lies inside it), or (inside) what
    that box encloses without its edge: the contents of a frame."""
    box = select_object(g, select, by_colour, diag).crop(g)
    if inside:
        if min(box.shape) < 3:
            raise Reject("nothing inside")
        box = box[1:-1, 1:-1]
    return box.copy()


def keep_object(g: np.ndarray, select: str, by_colour: bool = False, diag: bool = False) -> np.ndarray:
    """Only the selected object, where it is; everything else becomes background."""
    o = select_object(g, select, by_colour, diag)
    out = np.zeros_like(g)
    o.crop(out)[o.mask] = o.crop(g)[o.mask]
    return out


def stamp_template(g: np.ndarray, keep: bool = True) -> np.ndarray:
    """The object with the most colours is a template: every other object with its footprint is
    painted over with it (and the template itself stays, or is cleared)."""
    objs = objects(g, by_colour=False)
    template = select_object(g, "most_colours")
    out = g.copy()
    hits = 0
    for o in objs:
        if (o.r, o.c) != (template.r, template.c) and o.shape == template.shape and np.array_equal(o.mask, template.mask):
            o.crop(out)[o.mask] = template.crop(g)[template.mask]
            hits += 1
    if not hits:
        raise Reject("no object with the template's footprint")
    if not keep:
        template.crop(out)[template.mask] = 0
    return out


def crop_colour(g: np.ndarray, c: int, inside: bool = False) -> np.ndarray:
    """The bounding box of the cells of colour c, or (inside) what that box encloses without its edge."""
    r0, r1, c0, c1 = bbox(g == c)
    if inside:
        r0, r1, c0, c1 = r0 + 1, r1 - 1, c0 + 1, c1 - 1
        if r1 <= r0 or c1 <= c0:
            raise Reject("nothing inside")
    return g[r0:r1, c0:c1].copy()

