"""The search's object selectors, equal splits, part orders, diagonal lines and periods."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from arcttt.dsl import counting, grid_ops, parts
from arcttt.dsl.objects import crop_object, keep_object, stamp_template
from arcttt.dsl.reject import Reject
from arcttt.search.learners import learn_overlay_order, overlay_order
from conftest import grids

A = np.uint8


def test_selectors_pick_by_shape_symmetry_spots_and_position():
    g = np.zeros((7, 9), A)
    g[0:2, 0:2] = 1          # a 2x2 square, twice
    g[0:2, 3:5] = 1
    g[4, 0:3] = 1            # an L: the only asymmetric object
    g[5, 0] = 1
    g[4:7, 6:9] = 2          # a red block with one spot of 3
    g[5, 7] = 3
    assert crop_object(g, "common_shape").tolist() == [[1, 1], [1, 1]]  # tied, but both look the same
    assert crop_object(g, "asymmetric").tolist() == [[1, 1, 1], [1, 0, 0]]
    assert crop_object(g, "most_spots").tolist() == [[2, 2, 2], [2, 3, 2], [2, 2, 2]]
    assert crop_object(g, "bottommost").tolist() == [[2, 2, 2], [2, 3, 2], [2, 2, 2]]
    assert crop_object(g, "most_spots", inside=True).tolist() == [[3]]
    assert crop_object(g, "topmost").tolist() == [[1, 1], [1, 1]]  # two squares tie: they look the same
    with pytest.raises(Reject):  # a square and the L tie for the left edge, and they look different
        crop_object(g, "leftmost")


def test_keep_an_object_and_stamp_a_template():
    g = np.zeros((5, 7), A)
    g[0:2, 0:2] = [[1, 2], [3, 4]]   # the template: the object with the most colours
    g[3:5, 4:6] = 8                  # an object with its footprint
    g[0, 6] = 5                      # a lone cell of another shape
    kept = keep_object(g, "smallest")
    assert kept[0, 6] == 5 and kept.sum() == 5
    out = stamp_template(g)
    assert out[3:5, 4:6].tolist() == [[1, 2], [3, 4]] and out[0, 6] == 5 and out[0, 0] == 1
    assert stamp_template(g, keep=False)[0:2, 0:2].sum() == 0


@given(grids(max_side=8))
def test_equal_splits_put_the_grid_back_together(g):
    pieces = parts.split_parts(np.tile(g, (2, 2)), "quarters")
    assert len(pieces) == 4 and all(np.array_equal(p, g) for p in pieces)
    for axis, reps in ((0, (2, 1)), (1, (1, 2))):
        tiled = np.tile(g, reps)
        if tiled.shape[0] == tiled.shape[1]:
            with pytest.raises(Reject):  # a square grid has no longer side to halve
                parts.split_parts(tiled, "halves")
        elif tiled.shape[axis] > tiled.shape[1 - axis]:  # halved across its longer side: the tiled one
            pieces = parts.split_parts(tiled, "halves")
            assert len(pieces) == 2 and all(np.array_equal(p, g) for p in pieces)


def test_the_order_of_parts_is_learned_from_the_demonstrations():
    def quarters(a, b, c, d):
        return np.block([[a, b], [c, d]]).astype(A)

    full = np.ones((2, 2), A)
    rng = np.random.default_rng(0)
    outs, targets = [], []
    for _ in range(3):
        layers = [np.where(rng.random((2, 2)) < 0.5, colour * full, 0).astype(A) for colour in (1, 2, 3, 4)]
        g = quarters(*layers)
        outs.append(g)
        targets.append(overlay_order(g, "quarters", (0, 3, 2, 1)))
    finish = learn_overlay_order(outs, targets)
    assert finish is not None and finish.fn == "overlay_order"
    assert all(np.array_equal(overlay_order(o, *finish.literals), t) for o, t in zip(outs, targets))


def test_nested_parts_and_counts():
    mask = np.array([[0, 5], [5, 5]], A)
    pattern = np.array([[1, 2], [3, 0]], A)
    g = np.hstack([pattern, mask])  # the mask is the part of one colour
    out = parts.nest_parts(g, "halves", mask="one_colour", outer="mask")
    assert np.array_equal(out, np.kron(mask != 0, pattern))
    out = parts.nest_parts(g, "halves", mask="one_colour", outer="pattern")
    assert np.array_equal(out[2:4, 0:2], 3 * (mask != 0)) and not out[2:4, 2:4].any()
    assert parts.pick_part(g, "most_colours", "halves").tolist() == pattern.tolist()
    assert parts.pick_part(g, "fewest_colours", "halves").tolist() == mask.tolist()
    with pytest.raises(Reject):  # three cells each, and the parts differ
        parts.pick_part(g, "most_cells", "halves")
    assert counting.scale_by_count(pattern, "colours").shape == (6, 6)
    assert counting.cells_in_a_row(pattern).tolist() == [[1, 2, 3]]
    assert grid_ops.extend_period(np.array([[1, 2, 1, 2, 1]], A), "h").tolist() == [[1, 2] * 5]


def test_diagonal_pairs_connect_and_straight_lines_keep_the_first_drawn():
    g = np.zeros((5, 5), A)
    g[0, 0] = g[4, 4] = 3
    g[0, 4] = g[4, 0] = 2
    out = grid_ops.connect_pairs(g, diag=True)
    assert [out[i, i] for i in range(5)] == [3, 3, 3, 3, 3] and out[1, 3] == out[3, 1] == 2
    g = np.zeros((4, 6), A)
    g[1, 0] = g[1, 5] = 1
    g[0, 2] = g[3, 2] = 2
    out = grid_ops.connect_pairs(g)
    assert out[1].tolist() == [1] * 6 and out[:, 2].tolist() == [2, 1, 2, 2]


def test_diagonal_stripes_fill_the_masked_cells():
    stripes = ((np.add.outer(np.arange(6), np.arange(6)) % 3) + 1).astype(A)
    masked = stripes.copy()
    masked[2:5, 1:4] = 0
    assert np.array_equal(grid_ops.fill_periodic(masked, mask=0), stripes)


def test_colour_boxes_fill_each_colours_bounding_box():
    g = np.zeros((5, 6), A)
    g[0, 0] = g[2, 2] = 1
    g[4, 5] = g[3, 4] = 2
    out = grid_ops.fill_colour_boxes(g)
    assert (out[0:3, 0:3] == 1).all() and (out[3:5, 4:6] == 2).all() and (out[0:3, 3:] == 0).all()


def test_partial_periods_continue_each_row_and_leave_empty_rows_empty():
    g = np.zeros((3, 9), A)
    g[1, :4] = [1, 2, 2, 1]
    g[2, :5] = [3, 4, 4, 3, 4]
    out = grid_ops.fill_periodic(g, mask=0, partial=True)
    assert out[0].tolist() == [0] * 9
    assert out[1].tolist() == [1, 2, 2] * 3 and out[2].tolist() == [3, 4, 4] * 3


def test_a_colour_named_by_its_role_is_read_from_the_grid():
    from arcttt.dsl.analysis import role_colour
    from arcttt.search.ops import family_spaces
    from arcttt.search.program import PRIMITIVES

    g = np.array([[1, 1, 1], [0, 2, 0], [1, 0, 0]], A)
    assert role_colour(g, "most") == 1 and role_colour(g, "least") == 2
    with pytest.raises(Reject):  # a tie between 1 and 2
        role_colour(np.array([[1, 2]], A), "most")
    _, colour_keys, _ = family_spaces()["recolour_all"]
    (key,) = colour_keys
    out = PRIMITIVES["recolour_all"](g, **{key: "least"})
    assert np.array_equal(out, PRIMITIVES["recolour_all"](g, **{key: 2}))


def test_parts_filled_whole_and_joined_as_cells_of_a_small_grid():
    g = np.zeros((5, 8), A)
    g[2, :] = 5
    g[:, [2, 5]] = 5                          # six 2x2 parts between grey lines
    g[0, 0] = 3
    g[3, 6] = g[4, 7] = 4
    g[0:2, 6:8] = 3
    filled = parts.fill_parts(g, "main")
    assert filled[0:2, 0:2].tolist() == [[3, 3], [3, 3]] and filled[3:5, 6:8].tolist() == [[4, 4], [4, 4]]
    assert (filled[2] == 5).all() and filled[3, 0] == 0
    most = parts.fill_parts(g, "most_cells")
    assert (most[0:2, 6:8] == 3).all() and (most[0:2, 0:2] == 0).all() and (most[3:5, 6:8] == 0).all()
    joined = parts.connect_parts(filled)     # the two 3-parts on the top row of parts join
    assert (joined[0:2, 3:5] == 3).all() and not joined[3:5, 0:2].any() and not joined[3:5, 3:5].any()


def test_border_colours_and_rings():
    from arcttt.dsl import borders

    g = np.zeros((4, 6), A)
    g[:, 0] = [1, 2, 3, 4]                    # row headers
    g[1, 2] = g[3, 4] = 5
    out = borders.colour_from_border(g, 5)
    assert out[1, 2] == 2 and out[3, 4] == 4 and out[0, 0] == 1
    rings = np.full((5, 5), 3, A)
    rings[1:4, 1:4] = 2
    rings[2, 2] = 7
    assert borders.permute_rings(rings, "reverse")[0, 0] == 7 and borders.permute_rings(rings, "reverse")[2, 2] == 3
    rotated = borders.permute_rings(rings, "rotate")
    assert rotated[0, 0] == 7 and rotated[1, 1] == 3 and rotated[2, 2] == 2
    assert np.array_equal(borders.permute_rings(borders.permute_rings(rings, "reverse"), "reverse"), rings)
