"""The search's learned last steps over components and cells: object and background-region recolouring,
stamps around marker cells, and connect_pairs' line options."""

from __future__ import annotations

import numpy as np
import pytest

from arcttt.dsl import grid_ops
from arcttt.search.marker_learners import learn_stamp, stamp
from arcttt.search.object_learners import learn_component_recolour, object_property, recolour_objects

A = np.uint8


def _marker_grid(cells: dict, shape=(7, 7)) -> np.ndarray:
    g = np.zeros(shape, A)
    for (r, c), v in cells.items():
        g[r, c] = v
    return g


def test_stamp_learns_each_colours_patch_and_paints_it_at_new_places():
    table = {(1, -1, 0): 7, (1, 1, 0): 7, (2, 0, -1): 4, (2, 0, 1): 4}
    inputs = [_marker_grid({(1, 1): 1, (4, 4): 2}), _marker_grid({(2, 4): 1, (5, 1): 2, (5, 5): 3})]
    outputs = [stamp(g, table) for g in inputs]
    found = learn_stamp(inputs, outputs)
    assert found is not None and found.fn == "stamp"
    assert found.literals[0] == table  # no entry the outputs do not need
    new = _marker_grid({(0, 0): 2, (3, 3): 1, (6, 6): 8})  # corners, and a colour never shown
    assert stamp(new, table)[0].tolist() == [2, 4, 0, 0, 0, 0, 0]
    assert found.covers is None  # colour 3 painted nothing: an unseen colour is one more of those


def test_stamp_requires_every_colour_seen_when_all_paint():
    table = {(1, 0, 1): 5}
    inputs = [_marker_grid({(1, 1): 1}), _marker_grid({(3, 2): 1, (5, 5): 1})]
    found = learn_stamp(inputs, [stamp(g, table) for g in inputs])
    assert found is not None
    assert found.covers(_marker_grid({(2, 2): 1}))
    assert not found.covers(_marker_grid({(2, 2): 1, (4, 4): 6}))


def test_stamp_rejects_outputs_it_cannot_explain():
    g = _marker_grid({(1, 1): 1, (5, 5): 1})
    out = g.copy()
    out[1, 2] = 5  # one marker's neighbour changes, the other's not
    assert learn_stamp([g], [out]) is None


def test_background_regions_recolour_by_shape_and_objects_by_holes():
    g = np.zeros((8, 8), A)
    g[0:4, 0:4] = 1
    g[1:3, 1:3] = 0          # a 2x2 square room inside a ring: has a hole
    g[5:8, 5:8] = 3
    g[6, 6] = 0              # a 1x1 room inside a solid 3x3: also a hole
    rooms = recolour_objects(g, "is_square", {True: 2}, "background")
    assert rooms[1:3, 1:3].tolist() == [[2, 2], [2, 2]] and rooms[6, 6] == 2
    assert rooms[0, 5] == 0  # the outer background is no square
    holed = recolour_objects(g, "has_hole", {True: 4})
    assert holed[0, 0] == 4 and holed[5, 5] == 4
    found = learn_component_recolour([g], [rooms])
    assert any(f.literals[-1] == "background" for f in found)
    assert all(np.array_equal(recolour_objects(g, *f.literals), rooms) for f in found)


def test_size_extreme_names_largest_middle_and_smallest():
    from arcttt.dsl.analysis import objects

    g = np.zeros((5, 9), A)
    g[0, 0] = 1
    g[0:2, 3:5] = 1
    g[0:3, 7:9] = 1
    objs = objects(g, by_colour=False)
    sizes = sorted({o.size for o in objs}, reverse=True)
    assert [object_property(o, "size_extreme", g, sizes) for o in objs] == ["smallest", "middle", "largest"]


def test_connect_pairs_draws_chosen_lines_in_order_and_marks_them():
    g = np.zeros((5, 5), A)
    g[2, 0] = g[2, 4] = 1
    g[0, 2] = g[4, 2] = 2
    assert grid_ops.connect_pairs(g)[2, 2] == 1                          # rows first: the row stays
    assert grid_ops.connect_pairs(g, lines="columns,rows")[2, 2] == 2
    assert grid_ops.connect_pairs(g, lines="rows")[:, 2].tolist() == [2, 0, 1, 0, 2]
    marked = grid_ops.connect_pairs(g, lines="columns", mark=True)
    assert marked[:, 2].tolist() == [2, grid_ops.MARK, grid_ops.MARK, grid_ops.MARK, 2] and marked[2, 1] == 0
    lone = np.zeros((3, 3), A)
    lone[1, 1] = 8
    assert np.array_equal(grid_ops.connect_pairs(lone), lone)  # nothing to connect: unchanged


def test_lines_learn_each_colours_orientation_and_the_crossing_colour():
    from arcttt.search.marker_learners import learn_lines, lines_through

    rule = ({1: "h", 2: "v"}, "v", 5)
    inputs = [_marker_grid({(1, 1): 1, (4, 3): 2}), _marker_grid({(5, 0): 1, (2, 5): 2, (0, 2): 2})]
    outputs = [lines_through(g, *rule) for g in inputs]
    assert outputs[0][1].tolist() == [1, 1, 1, 5, 1, 1, 1]  # the crossing on background takes colour 5
    assert lines_through(inputs[0], {1: "h", 2: "v"}, "v")[1, 3] == 2  # without: the column lies on top
    assert lines_through(inputs[0], {1: "h", 2: "v"}, "h")[1, 3] == 1
    found = learn_lines(inputs, outputs)
    assert found is not None
    new = _marker_grid({(3, 3): 1, (6, 6): 2})
    assert np.array_equal(lines_through(new, *found.literals), lines_through(new, *rule))
    assert not found.covers(_marker_grid({(3, 3): 4}))


def test_attract_moves_single_cells_next_to_the_anchor_or_draws_their_trail():
    from arcttt.search.marker_learners import attract, learn_attract

    g = np.zeros((7, 7), A)
    g[3, 2:5] = 3            # the anchor: a bar
    g[0, 3] = 6              # above it: falls to row 2
    g[6, 4] = 6              # below it: rises to row 4
    g[0, 0] = 6              # sees no anchor: vanishes
    moved = attract(g, (3,))
    assert moved[2, 3] == 6 and moved[4, 4] == 6 and moved[0, 3] == 0 and moved[0, 0] == 0
    trails = attract(g, (3,), trail=True)
    assert trails[:3, 3].tolist() == [6, 6, 6] and trails[0, 0] == 6
    found = learn_attract([g], [moved])
    assert found is not None and np.array_equal(attract(g, *found.literals), moved)


def test_symmetry_completed_about_the_pattern_or_its_anchor():
    from arcttt.dsl.symmetry import complete_symmetry

    g = np.zeros((7, 7), A)
    g[1, 1], g[1, 3], g[2, 2] = 4, 5, 6      # one corner of a pattern centred on (3, 3)
    g[5, 5] = 4                              # and the opposite corner, so the bounding box is centred
    full = complete_symmetry(g, "all", "bbox")
    for k in range(4):
        assert np.array_equal(np.rot90(full, k), full)
    assert np.array_equal(full, full.T) and np.array_equal(complete_symmetry(full, "all", "bbox"), full)
    h = np.zeros((6, 7), A)
    h[2:4, 3] = 2                            # the anchor: a bar symmetric on its own
    h[1, 1] = h[0, 2] = 8                    # the pattern on one side of it
    mirrored = complete_symmetry(h, "mirrors", "anchor")
    assert mirrored[1, 5] == mirrored[4, 1] == mirrored[4, 5] == 8 and mirrored[5, 2] == 8


def test_fill_lines_learns_a_colour_per_line_feature():
    from arcttt.search.line_learners import fill_lines, learn_fill_lines

    g1 = np.array([[1, 1, 1], [2, 1, 2], [3, 3, 3]], A)
    g2 = np.array([[4, 4, 4], [4, 4, 5], [2, 2, 2]], A)
    table = {True: 5, False: 0}
    found = learn_fill_lines([g1, g2], [fill_lines(g, "rows", "uniform", table) for g in (g1, g2)])
    assert found is not None and found.literals == ("rows", "uniform", table)
    assert fill_lines(g1, "columns", "first_cell", {0: 7})[0].tolist() == [7, 7, 7]


def test_continue_lines_repeats_a_drifting_period():
    from arcttt.search.line_learners import continue_lines, learn_continue_lines

    g = np.zeros((4, 8), A)
    g[0, 0:2] = 3
    g[1, 1] = 3
    g[2, 1:3] = 3                            # a period of two rows, drifting one cell right
    g[3, 2] = 3
    out = continue_lines(g, "rows", ("lines", 8))
    assert out.shape == (8, 8) and out[6].tolist() == [0, 0, 0, 3, 3, 0, 0, 0] and out[7, 4] == 3
    found = learn_continue_lines([g, g[:, ::-1].copy()], [out, continue_lines(g[:, ::-1].copy(), "rows", ("lines", 8))])
    assert found is not None and found.literals == ("rows", ("lines", 8))


def test_review_cases_reject_rather_than_guess():
    from arcttt.dsl import borders, parts
    from arcttt.dsl.reject import Reject

    g = np.zeros((3, 3), A)
    g[1, 0] = g[1, 2] = 2
    g[0, 1] = 3
    g[1, 1] = 5                               # left and right say 2, the top says 3, all one cell away
    with pytest.raises(Reject):
        borders.colour_from_border(g, 5)
    with pytest.raises(Reject):
        grid_ops.self_similar(np.ones((2, 2), A), mask=4)   # no cell of the mask colour
    gaps = np.zeros((5, 5), A)
    gaps[0:2, 0:2] = 4                        # three parts between empty rows and columns, one of colour 2
    gaps[0:2, 3:5] = 4
    gaps[3:5, 0:2] = 2
    gaps[3:5, 3:5] = 4
    assert (parts.odd_part(gaps, split="gaps", by="colour") == 2).all()
    assert parts.parts_summary(gaps, split="gaps").tolist() == [[4, 4], [2, 4]]


def test_empty_lines_marked_and_self_nesting_masked_by_a_colour():
    g = np.array([[1, 0, 2], [0, 0, 0], [3, 0, 1]], A)
    marked = grid_ops.mark_empty_lines(g)
    assert (marked[1] == grid_ops.MARK).all() and (marked[:, 1] == grid_ops.MARK).all() and marked[0, 0] == 1
    nested = grid_ops.self_similar(g, mask=1)
    assert nested.shape == (9, 9) and np.array_equal(nested[0:3, 0:3], g) and np.array_equal(nested[6:9, 6:9], g)
    assert not nested[0:3, 6:9].any()        # the 2 is no mask cell


def test_a_map_that_only_names_marked_cells_needs_no_coverage():
    from arcttt.search.learners import learn_colour_map

    outs = [np.array([[1, grid_ops.MARK]], A)]
    found = learn_colour_map(outs, [np.array([[1, 4]], A)])
    assert found is not None and found.literals == ({grid_ops.MARK: 4},) and found.covers is None
    plain = learn_colour_map([np.array([[1, 2]], A)], [np.array([[1, 4]], A)])
    assert plain.covers is not None and not plain.covers(np.array([[7]], A))
