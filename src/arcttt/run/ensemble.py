"""How the two solvers' answers become two attempts: verified programs first, then TTT's, in order.

A program that reproduces every demonstration is trusted first (the paper's ensemble of TTT with
program synthesis); TTT's voted attempts and ranked candidates fill the rest. Shared by the live
ensemble (`arcttt solve --solver ensemble`) and by `arcttt combine`, which merges finished runs.
"""

from __future__ import annotations

SOLVERS = ("ttt", "search", "ensemble")


def merge(search: list, ttt: list, n: int = 2) -> tuple[list, list[str]]:
    """For one test input: up to n distinct attempts, and which solver gave each ('search' or 'ttt')."""
    attempts: list = []
    sources: list[str] = []
    for source, answers in (("search", search), ("ttt", ttt)):
        for grid in answers:
            if len(attempts) == n:
                return attempts, sources
            if grid not in attempts:
                attempts.append(grid)
                sources.append(source)
    return attempts, sources


def ttt_ranking(record: dict, test_index: int) -> list:
    """A TTT record's answers for one test input, best first: its voting ranking (whose head is its
    attempts), or its attempts where the ranking is missing."""
    candidates = record.get("candidates") or []
    if test_index < len(candidates) and candidates[test_index]:
        return [c["grid"] for c in candidates[test_index]]
    attempts = record.get("attempts") or []
    return list(attempts[test_index]) if test_index < len(attempts) else []
