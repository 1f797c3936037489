import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcttt.data.tasks import grid_key
from arcttt.data.transforms import VOTING_NAMES
from arcttt.errors import ArcTTTError
from arcttt.method.voting import Candidate, transform_group, vote


def G(*rows):
    return np.array(rows, dtype=np.uint8)


A, B, C, D, E = G([1]), G([2]), G([3]), G([4]), G([1, 1])

POOL = [G([1]), G([2]), G([1, 2]), G([1], [2]), G([0, 0], [0, 0]), G([9, 9, 9])]


@st.composite
def candidate_lists(draw):
    n = draw(st.integers(0, 25))
    out = []
    for _ in range(n):
        grid = POOL[draw(st.integers(0, len(POOL) - 1))]
        name = draw(st.sampled_from(VOTING_NAMES))
        if draw(st.booleans()):
            name += "+colour:0" + "".join(map(str, draw(st.permutations(list(range(1, 10))))))
        logprob = draw(st.sampled_from([0.0, -1.0, -2.5, float("-inf"), float("nan")]))
        out.append(Candidate(grid.copy(), name, logprob))
    return out


def keys(grids):
    return [grid_key(g) for g in grids]


def summary(result):
    return keys(result.attempts), result.votes, [(grid_key(r.grid), r.votes, r.in_identity) for r in result.ranking]


@given(candidate_lists(), st.integers(0, 2**32 - 1), st.sampled_from(["hierarchical", "flat", "scores"]))
def test_voting_is_invariant_to_arrival_order(cands, seed, method):
    scores = {grid_key(g): float(i % 3) for i, g in enumerate(POOL)} if method == "scores" else None
    shuffled = list(cands)
    random.Random(seed).shuffle(shuffled)
    a = vote(cands, method, scores=scores)
    b = vote(shuffled, method, scores=scores)
    assert summary(a) == summary(b)
    assert len(a.attempts) <= 2
    assert len(set(keys(a.attempts))) == len(a.attempts)
    assert set(keys(a.attempts)) <= set(keys(c.grid for c in cands))
    assert len(a.attempts) == min(2, len({grid_key(c.grid) for c in cands}))


def test_flat_vote_counts_every_candidate():
    cands = [Candidate(A, "rot90")] * 5 + [Candidate(B, "identity")] * 3 + [Candidate(C, "flip_h")] * 4
    r = vote(cands, "flat")
    assert keys(r.attempts) == keys([A, C])
    assert r.votes == [5, 4]


def test_hierarchical_counts_groups_not_candidates():
    # A dominates one group; B is proposed (once) by three groups: hierarchical prefers B, flat prefers A
    cands = [Candidate(A, "rot90", -0.1)] * 10 + [
        Candidate(B, "identity", -5), Candidate(B, "flip_h", -5), Candidate(B, "flip_v", -5),
        Candidate(C, "transpose", -1),
    ]
    assert keys(vote(cands, "hierarchical").attempts) == keys([B, A])
    assert keys(vote(cands, "flat").attempts) == keys([A, B])


def test_hierarchical_keeps_top_three_per_group():
    # group rot90 ranks A(3) B(2) C(2, worse logprob) D(1): D is 4th and gets no vote from it
    rot90 = ([Candidate(A, "rot90")] * 3 + [Candidate(B, "rot90", -1)] * 2 + [Candidate(C, "rot90", -2)] * 2
             + [Candidate(D, "rot90", 0.0)])
    others = [Candidate(D, "flip_h"), Candidate(D, "flip_v"), Candidate(A, "rot180")]
    r = vote(rot90 + others, "hierarchical")
    votes = {grid_key(x.grid): x.votes for x in r.ranking}
    assert votes[grid_key(D)] == 2  # flip_h and flip_v only
    assert votes[grid_key(A)] == 2
    assert votes[grid_key(B)] == 1 and votes[grid_key(C)] == 1
    # A and D tie on votes, identity (neither) and log-probability (0.0): content decides, A's bytes first
    assert keys(r.attempts) == keys([A, D])


def test_identity_breaks_ties():
    # B and C each top two groups; C is in the identity group, arrives last and has the worse log-probability
    cands = [Candidate(B, "rot90", -0.1), Candidate(B, "flip_h", -0.1), Candidate(A, "flip_v", -0.1),
             Candidate(C, "rot180", -9), Candidate(C, "identity", -9)]
    r = vote(cands, "hierarchical")
    assert keys(r.attempts) == keys([C, B])
    assert r.ranking[0].in_identity and not r.ranking[1].in_identity
    # without the identity vote, the log-probability decides
    cands[-1] = Candidate(C, "transpose", -9)
    assert keys(vote(cands, "hierarchical").attempts) == keys([B, C])


def test_colour_and_order_share_the_geometric_group():
    assert transform_group("rot90+colour:0123456789+order:1,0") == "rot90"
    assert transform_group("colour:0213456789") == "identity"
    assert transform_group("identity") == "identity"
    assert transform_group("flip_h+upscale:2x2") == "flip_h+upscale:2x2"
    # two candidates from the identity group under different colourings count once for that group
    cands = [Candidate(A, "colour:0213456789"), Candidate(A, "identity"), Candidate(B, "rot90"), Candidate(B, "flip_h")]
    votes = {grid_key(x.grid): x.votes for x in vote(cands).ranking}
    assert votes == {grid_key(A): 1, grid_key(B): 2}


def test_scores_method():
    cands = [Candidate(A)] * 5 + [Candidate(B)] + [Candidate(C)] * 2
    scores = {grid_key(A): -10.0, grid_key(B): -1.0, grid_key(C): -3.0}
    r = vote(cands, "scores", scores=scores)
    assert keys(r.attempts) == keys([B, C])
    assert [grid_key(x.grid) for x in r.ranking] == keys([B, C, A])
    assert [x.score for x in r.ranking] == [-1.0, -3.0, -10.0]  # kept, so records can show them
    assert all(x.score is None for x in vote(cands, "hierarchical").ranking)
    with pytest.raises(ArcTTTError):
        vote(cands, "scores")
    with pytest.raises(ArcTTTError):
        vote(cands, "scores", scores={grid_key(A): 1.0})


def test_at_most_two_distinct_attempts_and_edge_cases():
    r = vote([Candidate(A)] * 4, "hierarchical")
    assert keys(r.attempts) == keys([A]) and r.votes == [1]
    r = vote([Candidate(g, "identity") for g in (A, B, C, D, E)], "flat")
    assert len(r.attempts) == 2 and len(r.ranking) == 5
    assert vote([], "hierarchical").attempts == []
    assert len(vote([Candidate(g) for g in (A, B, C)], "flat", attempts=3).attempts) == 3
    with pytest.raises(ArcTTTError):
        vote([Candidate(A)], "majority")
    # same cells, different shapes are different grids
    r = vote([Candidate(G([1, 1])), Candidate(G([1], [1]))], "flat")
    assert {x.shape for x in r.attempts} == {(1, 2), (2, 1)}
