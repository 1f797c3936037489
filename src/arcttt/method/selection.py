"""Two attempts from a test input's candidates: voting, or product of experts.

Product of experts (`poe`) takes hierarchical voting's shortlist and ranks it by each grid's
log-probability summed over every inference view's transform (inference.score_grids), so a grid
the model finds likely from all sides wins over one that a few views happened to repeat.
"""

from __future__ import annotations

from typing import Sequence

from ..data.tasks import Task, grid_key
from .inference import score_grids
from .voting import Candidate, VoteResult, vote


def choose(model, vocab, task: Task, test_index: int, candidates: Sequence[Candidate], voting: str,
           poe_candidates: int, transforms: Sequence[str]) -> VoteResult:
    """The ranked candidates of one test input under `voting` (hierarchical, flat or poe)."""
    if voting != "poe":
        return vote(candidates, voting)
    shortlist = vote(candidates, "hierarchical").ranking[:poe_candidates]
    scores = score_grids(model, vocab, task, test_index, [r.grid for r in shortlist], transforms)
    return vote([c for c in candidates if grid_key(c.grid) in scores], "scores", scores=scores)
