"""Synthetic ARC task generators: a registry of task families (see README.md in this folder).

Each family is a rule (a pure function of an input grid and the family's sampled
parameters) with samplers for parameters and inputs; ``generate_task`` turns one
(family, seed, difficulty) into a valid, deterministic :class:`arcttt.tasks.Task`.
"""

from __future__ import annotations

from .core import (FAMILIES, SPLITS, Family, Reject, generate_many, generate_task, get_family, list_families,
                   resolve_families)
from .readme import families_table, render_readme
# Importing the family modules registers their families in FAMILIES. Python imports this package before
# any of its modules, so every function of core sees all families; composed ones build on the others.
from . import geometry, colour, objects, lines, regions, grids, counting, patterns, sequences1d, composed  # noqa: E402, F401

__all__ = ["FAMILIES", "SPLITS", "Family", "Reject", "families_table", "generate_many", "generate_task",
           "get_family", "list_families", "render_readme", "resolve_families"]
