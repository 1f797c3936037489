"""Program search: the shortest programs that turn every demonstration input into its output.

Breadth-first by program length over the step catalogue (arcttt.search.ops), with one state per
distinct result: a partial program is identified by the grids it makes of the demonstration inputs,
and a later program with the same grids is dropped (the shorter one stays). Each state is offered to
the learners (arcttt.search.learners), which finish it with inferred parameters. At the last length,
a step that keeps the shape of its input is only tried on states that already have the outputs'
shapes. A program is accepted only if, parsed back from its text, it reproduces every demonstration
output exactly, and it can answer every test input; test inputs are used for nothing else, and test
outputs are never seen (the search takes the task without them).

The search stops when it holds two distinct answers that no shorter program can beat, or at its
budget: `max_states` distinct states (deterministic) or `seconds` (a safety cap that depends on the
machine's speed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..data.tasks import Task, grid_to_list
from ..dsl.grid_ops import MARK
from .config import SearchConfig
from .learners import finishes, learn_constant
from .ops import Step, all_steps
from .program import Call, Program, X, parse, run, size

clock = time.perf_counter
"""The search's clock (tests replace it with a simulated one)."""

MAX_STATE_SIDE = 64
"""Intermediate grids larger than this are dropped (no ARC output needs them)."""


@dataclass
class Found:
    """A verified program, its cost (its length plus what its learned last step costs) and its answers."""

    program: str
    cost: int
    answers: list[list[list[int]]]
    seconds: float


@dataclass
class SearchResult:
    task_id: str
    programs: list[Found] = field(default_factory=list)
    states: int = 0
    seconds: float = 0.0
    stopped: str = "exhausted"
    """'found' (two answers no shorter program can beat), 'exhausted', 'states' or 'time'."""

    def attempts(self, test_index: int, n: int = 2) -> list[list[list[int]]]:
        """The first n distinct answers for one test input, cheapest programs first."""
        out: list = []
        for f in self.programs:
            a = f.answers[test_index]
            if a not in out:
                out.append(a)
        return out[:n]

    def to_dict(self) -> dict:
        return {"task_id": self.task_id, "states": self.states, "seconds": round(self.seconds, 3),
                "stopped": self.stopped,
                "programs": [{"program": f.program, "cost": f.cost, "seconds": round(f.seconds, 3),
                              "answers": f.answers} for f in self.programs]}


def _key(grids: list[np.ndarray]) -> tuple:
    return tuple((g.shape, g.tobytes()) for g in grids)


def _as_state(out) -> np.ndarray:
    if not isinstance(out, np.ndarray) or out.ndim != 2 or out.size == 0 or max(out.shape) > MAX_STATE_SIDE:
        raise ValueError("not a grid")
    return out if out.dtype == np.uint8 else out.astype(np.uint8)


def _valid_answer(g: np.ndarray, max_side: int) -> bool:
    return g.ndim == 2 and g.size > 0 and max(g.shape) <= max_side and int(g.max()) < MARK


class _Search:
    def __init__(self, task: Task, config: SearchConfig):
        self.task = task.without_solutions()  # the search never sees test outputs
        self.config = config
        self.inputs = [p.input for p in self.task.train]
        self.targets = [p.output for p in self.task.train]
        self.tests = [p.input for p in self.task.test]
        self.target_shapes = [t.shape for t in self.targets]
        self.max_side = self.task.grid_limit()
        self.start = clock()
        self.result = SearchResult(self.task.id)
        self.seen: set[tuple] = set()
        self.keeps_shape: dict[Step, bool] = {}

    def out_of_budget(self) -> str | None:
        if len(self.seen) >= self.config.max_states:
            return "states"
        if clock() - self.start > self.config.seconds:
            return "time"
        return None

    def offer(self, program: Program, outs: list[np.ndarray], depth: int) -> None:
        """Finish `program` with every learner that fits, and keep the verified ones."""
        for finish in finishes(outs, self.targets, depth):
            full = program if not finish.fn else Call(finish.fn, program, finish.literals)
            self.accept(full, size(program) + finish.cost, program, finish.covers)

    def accept(self, full: Program, cost: int, partial: Program, covers) -> None:
        try:
            if covers is not None and not all(covers(run(partial, t)) for t in self.tests):
                return
            answers = [run(full, t) for t in self.tests]
            again = parse(str(full))  # what is kept is the text: it must mean the same program
            if not all(np.array_equal(run(again, i), o) for i, o in zip(self.inputs, self.targets)):
                return
        except Exception:  # a step that does not apply to a test input: no answer from this program
            return
        if not all(_valid_answer(a, self.max_side) for a in answers):
            return
        self.result.programs.append(Found(str(full), cost, [grid_to_list(a) for a in answers],
                                          clock() - self.start))

    def closeness(self, grids: list[np.ndarray]) -> float:
        """How near a state is to the outputs: the share of cells already right where the shapes match,
        else how near its shapes are (a guide for the order of expansion only)."""
        score = 0.0
        for g, t in zip(grids, self.targets):
            if g.shape == t.shape:
                score += 1.0 + float((g == t).mean())
            else:
                score += min(g.size, t.size) / max(g.size, t.size)
        return score / len(grids)

    def settled(self, depth: int) -> bool:
        """Whether two distinct answers are held that no program longer than `depth` can undercut."""
        best = sorted(self.result.programs, key=lambda f: f.cost)
        answers, cost = [], 0
        for f in best:
            if f.answers not in answers:
                answers.append(f.answers)
                cost = f.cost
            if len(answers) >= self.config.attempts:
                return cost <= depth + 1
        return False

    def run(self) -> SearchResult:
        steps = all_steps(sorted({int(c) for g in self.inputs + self.targets for c in np.unique(g)}))
        self.seen.add(_key(self.inputs))
        self.offer(X, self.inputs, 0)
        const = learn_constant(self.inputs, self.targets)
        if const is not None:
            self.accept(Call(const.fn, X, const.literals), const.cost, X, None)
        level: list[tuple[Program, list[np.ndarray]]] = [(X, self.inputs)]
        for depth in range(1, self.config.max_depth + 1):
            last = depth == self.config.max_depth
            following: list[tuple[Program, list[np.ndarray]]] = []
            level.sort(key=lambda state: -self.closeness(state[1]))  # the most promising first
            for program, grids in level:
                shaped = [g.shape for g in grids] == self.target_shapes
                for step in steps:
                    if depth > 1 and not step.inner:
                        continue
                    if last and not shaped and self.keeps_shape.get(step, False):
                        continue
                    stop = self.out_of_budget()
                    if stop:
                        self.result.stopped = stop
                        return self.finish()
                    try:
                        outs = [_as_state(step.apply(g)) for g in grids]
                    except Exception:  # Reject, or a rule that does not apply to this grid
                        continue
                    if depth == 1:
                        self.keeps_shape[step] = all(o.shape == g.shape for o, g in zip(outs, grids))
                    k = _key(outs)
                    if k in self.seen:
                        continue
                    self.seen.add(k)
                    new = step.wrap(program)
                    self.offer(new, outs, depth)
                    if not last:
                        following.append((new, outs))
            if self.settled(depth):
                self.result.stopped = "found"
                break
            level = following
        return self.finish()

    def finish(self) -> SearchResult:
        self.result.programs.sort(key=lambda f: f.cost)  # stable: equal costs keep their discovery order
        self.result.states = len(self.seen)
        self.result.seconds = clock() - self.start
        return self.result


def search(task: Task, config: SearchConfig | None = None) -> SearchResult:
    """The verified programs of a task, cheapest first (see the module docstring)."""
    return _Search(task, config or SearchConfig()).run()
