"""The search's settings (a field of SolveConfig, so `arcttt solve` builds its flags from them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..fields import option


@dataclass
class SearchConfig:
    """Program search: its budget per task and how long its programs may be."""

    seconds: float = option(10.0, flag="--search-seconds")
    """Time budget of the program search per task (a cap: the state budget decides first on a fast machine)."""
    max_states: int = option(50_000, flag="--search-states")
    """Distinct partial programs kept per task: bounds memory, and makes the search deterministic."""
    max_depth: int = option(2, flag="--search-depth")
    """Longest program, in enumerated steps (a learned last step comes on top)."""
    attempts: int = option(2, cli=False)
    """Distinct answers the search looks for before it stops (Kaggle's pass@2)."""
