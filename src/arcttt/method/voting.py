"""Choosing two attempts from many candidate predictions.

Candidates come from augmented inference: each was predicted under a transform
(already inverted back to the original frame) with a log-probability.

- flat: most votes overall;
- hierarchical (the paper): top 3 inside each transformation group, then the grids
  that appear in most groups' top 3, identity breaking ties;
- scores (product of experts): rank by a score per grid, e.g. the summed
  log-probability of the grid under several augmentations (filled by inference).

All ties are broken by content (identity group, log-probability, grid bytes), never
by arrival order, so the result does not depend on the order candidates arrive in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..data.tasks import Grid, grid_from_key, grid_key
from ..errors import ArcTTTError

VOTING_METHODS = ("hierarchical", "flat", "scores")


@dataclass(frozen=True)
class Candidate:
    grid: Grid
    transform: str = "identity"
    logprob: float = 0.0


@dataclass
class Ranked:
    grid: Grid
    votes: float
    logprob: float
    in_identity: bool
    score: float | None = None
    """The score it was ranked by under 'scores' voting (e.g. product of experts); None for votes."""


@dataclass
class VoteResult:
    attempts: list[Grid]
    votes: list[float]
    ranking: list[Ranked] = field(default_factory=list)


def transform_group(name: str) -> str:
    """The geometric part of a transform name: colour and order permutations share a group."""
    parts = [p for p in name.split("+") if not p.startswith(("colour:", "order:"))]
    return "+".join(parts) or "identity"


class _Tally:
    """Per distinct grid: votes, best log-probability, whether the identity group proposed it."""

    def __init__(self):
        self.votes: dict[tuple, float] = defaultdict(float)
        self.logprob: dict[tuple, float] = {}
        self.identity: dict[tuple, bool] = defaultdict(bool)

    def add(self, key: tuple, votes: float, logprob: float, identity: bool) -> None:
        if logprob != logprob:  # NaN would make max() and sorting depend on arrival order
            logprob = float("-inf")
        self.votes[key] += votes
        self.logprob[key] = max(self.logprob.get(key, float("-inf")), logprob)
        self.identity[key] = self.identity[key] or identity

    def ranked(self, score: Callable[[tuple], float] | None = None) -> list[Ranked]:
        """Distinct grids best first: by `score` where given (kept in each Ranked), else by votes."""
        primary = score or (lambda k: self.votes[k])

        def order(k: tuple):
            return (-primary(k), -self.identity[k], -self.logprob[k], k[0], k[1])

        return [Ranked(grid_from_key(k), self.votes[k], self.logprob[k], self.identity[k],
                       score(k) if score else None)
                for k in sorted(self.votes, key=order)]


def flat_vote(candidates: Iterable[Candidate]) -> list[Ranked]:
    tally = _Tally()
    for c in candidates:
        tally.add(grid_key(c.grid), 1, c.logprob, transform_group(c.transform) == "identity")
    return tally.ranked()


def hierarchical_vote(candidates: Iterable[Candidate], per_group: int = 3) -> list[Ranked]:
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        groups[transform_group(c.transform)].append(c)
    overall = _Tally()
    for name, members in groups.items():
        for r in flat_vote(members)[:per_group]:
            overall.add(grid_key(r.grid), 1, r.logprob, name == "identity")
    return overall.ranked()


def score_vote(candidates: Iterable[Candidate], scores: dict[tuple, float]) -> list[Ranked]:
    """Product-of-experts style: rank distinct grids by `scores[grid_key]` (higher is better)."""
    tally = _Tally()
    for c in candidates:
        tally.add(grid_key(c.grid), 1, c.logprob, transform_group(c.transform) == "identity")
    missing = [k for k in tally.votes if k not in scores]
    if missing:
        raise ArcTTTError(f"score_vote: {len(missing)} candidate grids have no score")
    return tally.ranked(score=lambda k: scores[k])


def vote(candidates: Iterable[Candidate], method: str = "hierarchical", attempts: int = 2,
         scores: dict[tuple, float] | None = None) -> VoteResult:
    """Choose up to `attempts` distinct grids from the candidates."""
    candidates = list(candidates)
    if method == "hierarchical":
        ranking = hierarchical_vote(candidates)
    elif method == "flat":
        ranking = flat_vote(candidates)
    elif method == "scores":
        if scores is None:
            raise ArcTTTError("voting method 'scores' needs a score for every candidate grid")
        ranking = score_vote(candidates, scores)
    else:
        raise ArcTTTError(f"unknown voting method '{method}'; choose from {', '.join(VOTING_METHODS)}")
    top = ranking[:attempts]
    return VoteResult([r.grid for r in top], [r.votes for r in top], ranking)
