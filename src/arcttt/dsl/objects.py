"""Object primitives: choose one object of a grid by a property and crop to it; crop to a colour.

Objects are connected components (arcttt.dsl.analysis.objects): of one colour each or of any colours,
4- or 8-connected. A selector picks the single object that is largest, smallest, the only one of its
colour or its shape, or the one with the most colours; a tie rejects (the choice would be a guess).
"""

from __future__ import annotations

import numpy as np

from .analysis import Obj, bbox, objects, unique_argmax
from .reject import Reject


def _odd(values: list) -> np.ndarray:
    """1 for the value that occurs once when every other value repeats, else 0."""
    return np.array([float(values.count(v) == 1) for v in values])


SELECTORS = {
    "largest": lambda objs, g: np.array([o.size for o in objs], float),
    "smallest": lambda objs, g: -np.array([o.size for o in objs], float),
    "odd_colour": lambda objs, g: _odd([o.colour for o in objs]),
    "odd_shape": lambda objs, g: _odd([(o.mask.shape, o.mask.tobytes()) for o in objs]),
    "most_colours": lambda objs, g: np.array([len(np.unique(o.crop(g)[o.mask])) for o in objs], float),
}


def select_object(g: np.ndarray, select: str, by_colour: bool = False, diag: bool = False) -> Obj:
    """The one object that `select` (a key of SELECTORS) picks out."""
    objs = objects(g, by_colour=by_colour, diag=diag)
    if len(objs) < 2:
        raise Reject("needs several objects")
    return objs[unique_argmax(SELECTORS[select](objs, g))]


def crop_object(g: np.ndarray, select: str, by_colour: bool = False, diag: bool = False) -> np.ndarray:
    """The bounding box of the selected object (with whatever else lies inside it)."""
    return select_object(g, select, by_colour, diag).crop(g).copy()


def crop_colour(g: np.ndarray, c: int, inside: bool = False) -> np.ndarray:
    """The bounding box of the cells of colour c, or (inside) what that box encloses without its edge."""
    r0, r1, c0, c1 = bbox(g == c)
    if inside:
        r0, r1, c0, c1 = r0 + 1, r1 - 1, c0 + 1, c1 - 1
        if r1 <= r0 or c1 <= c0:
            raise Reject("nothing inside")
    return g[r0:r1, c0:c1].copy()

