"""The solver of one task: test-time training, augmented inference, voting, and the task's record.

A Solver holds the model (loaded once) and its adapter; `solve(task)` returns a result
record and never raises: a failure is recorded with its reason. Executors build Solvers
through a SolverFactory, so they need not know what a Solver is made of.
"""

from __future__ import annotations

import json
import math
import time
import traceback
from dataclasses import dataclass, replace

from ..data.tasks import Task, grid_to_list
from ..errors import ArcTTTError
from ..method.inference import predict
from ..method.selection import choose
from ..method.voting import Candidate, Ranked
from ..search.engine import search
from .budget import InferenceCost, TaskBudget, view_tokens
from .config import SolveConfig
from .ensemble import merge, ttt_ranking


class Solver:
    """Holds the model and its adapter (unless only the search runs); solves one task at a time."""

    def __init__(self, config: SolveConfig, progress: bool = False):
        self.config = config
        self.loaded = self.adapter = self.engine = None
        self.inference_cost = InferenceCost()
        if config.solver == "search":
            return
        from ..method.models import load_model, set_threads
        from ..method.ttt import TaskAdapter

        set_threads(config.threads)
        self.loaded = load_model(config.model, config.device, config.dtype, config.gguf_file)
        self.adapter = TaskAdapter(self.loaded, config.ttt, config.seed, progress=progress)
        if config.backend == "vllm":
            from ..method.vllm_backend import VLLMEngine

            self.engine = VLLMEngine(self.loaded, self.adapter, config.dtype)

    def prepare(self, tasks: list[Task]) -> None:
        """Work shared by all tasks before solving (the shared-adapter ablation)."""
        if self.adapter is not None and self.config.ttt.mode == "shared":
            self.adapter.adapt_shared(tasks)

    def solve(self, task: Task) -> dict:
        """A result record for one task; failures are recorded, never raised.

        With --solver ensemble, the search runs first; TTT runs only where it has fewer than two
        answers for some test input, and fills the attempts after the programs' answers."""
        record: dict = {"task_id": task.id, "status": "ok", "error": None, "attempts": [], "solver": [],
                        "candidates": [], "timings": {}, "ttt": {}}
        start = time.perf_counter()
        budget = TaskBudget(self.config.task_seconds, start) if self.config.task_seconds is not None else None
        try:
            if task.has_solutions and task.test and task.test[0].output is not None:
                raise ArcTTTError("the solver was handed test outputs")  # guard against peeking
            n = len(task.test)
            programs = self._search(task, record, budget) if self.config.solver != "ttt" else [[] for _ in range(n)]
            ranked = [[] for _ in range(n)]
            if self.config.solver == "ttt" or (self.config.solver == "ensemble" and min(map(len, programs)) < 2):
                self._ttt(task, record, budget)
                ranked = [ttt_ranking(record, i) for i in range(n)]
            for i in range(n):
                attempts, sources = merge(programs[i], ranked[i])
                record["attempts"].append(attempts)
                record["solver"].append(sources)
            if not all(record["attempts"]) and self.config.solver != "search":
                record["status"] = "failed"
                record["error"] = "no valid candidate grid was decoded"
        except Exception as e:  # one bad task never stops the run: record it and go on
            record["status"] = "failed"
            record["error"] = f"{type(e).__name__}: {e}"
            if not isinstance(e, ArcTTTError):
                record["traceback"] = traceback.format_exc(limit=5)
        finally:
            if self.adapter is not None:
                self.adapter.end_task()  # per-task weights dropped; the shared adapter stays
        record["timings"]["total_s"] = round(time.perf_counter() - start, 3)
        return record

    def _search(self, task: Task, record: dict, budget: TaskBudget | None) -> list[list]:
        """Run the program search; its answers per test input, cheapest program first."""
        config = self.config.search
        if budget is not None:
            config = replace(config, seconds=budget.search_seconds(config.seconds))
        result = search(task, config)
        record["search"] = {"states": result.states, "seconds": round(result.seconds, 3), "stopped": result.stopped,
                            "programs": [{"program": f.program, "cost": f.cost} for f in result.programs[:5]]}
        record["programs"] = [f.program for f in result.programs[:2]]
        record["timings"]["search_s"] = round(result.seconds, 3)
        return [result.attempts(i) for i in range(len(task.test))]

    def _ttt(self, task: Task, record: dict, budget: TaskBudget | None) -> None:
        """Test-time training, augmented inference and voting: the record's TTT part and ranked candidates."""
        ttt_seconds = None
        if budget is not None:
            expected = self.inference_cost.estimate(view_tokens(task, self.config.inference, self.config.seed))
            ttt_seconds = budget.ttt_seconds(expected)
        report = self.adapter.adapt(task, ttt_seconds)
        record["ttt"] = {"mode": self.adapter.config.mode, "examples": report.examples, "steps": report.steps,
                         "tokens": report.tokens, "precision": report.precision, "losses": _thin(report.losses)}
        if ttt_seconds is not None:
            record["ttt"]["max_seconds"] = round(ttt_seconds, 3)
        record["timings"]["ttt_s"] = round(report.seconds, 3)
        t0 = time.perf_counter()
        stats: dict = {}
        with self.adapter.folded() as model:
            if self.engine is None:
                deadline = budget.deadline - self.inference_cost.selection() if budget else None
                per_test = predict(model, self.loaded.vocab, task, self.config.inference, self.config.seed, stats,
                                   deadline=deadline)
            else:
                per_test = self.engine.predict(task, self.config.inference, self.config.seed)
            t1 = time.perf_counter()
            chosen = [choose(model, self.loaded.vocab, task, i, c, self.config.voting, self.config.poe_candidates,
                             self.config.inference.transforms) for i, c in enumerate(per_test)]
        t2 = time.perf_counter()
        record["inference"] = stats
        record["timings"]["inference_s"] = round(t2 - t0, 3)
        self.inference_cost.add(t1 - t0, stats, t2 - t1)
        for candidates, result in zip(per_test, chosen):
            record["candidates"].append([_candidate_record(r, candidates) for r in result.ranking[:10]])


def _candidate_record(ranked: Ranked, candidates: list[Candidate]) -> dict:
    """One ranked grid as the record keeps it: votes, best log-probability, the PoE score where it was
    ranked by one (so selection rules can be compared from records alone), and the views that proposed it."""
    out = {"grid": grid_to_list(ranked.grid), "votes": ranked.votes, "logprob": round(ranked.logprob, 4)}
    if ranked.score is not None:
        out["score"] = round(ranked.score, 4) if math.isfinite(ranked.score) else None
    out["transforms"] = sorted({c.transform for c in candidates
                                if c.grid.shape == ranked.grid.shape and (c.grid == ranked.grid).all()})
    return out


def _thin(values: list[float], keep: int = 50) -> list[float]:
    """At most keep + 1 evenly spaced values (the last kept): a loss curve small enough for every record."""
    if len(values) <= keep:
        return [round(v, 4) for v in values]
    step = len(values) / keep
    return [round(values[int(i * step)], 4) for i in range(keep)] + [round(values[-1], 4)]


@dataclass(frozen=True)
class SolverFactory:
    """Builds the Solvers of one run wherever an executor runs them; picklable, so it travels to worker
    processes and Ray workers. Executors use only this class's interface, never the pipeline itself."""

    config: SolveConfig
    shared_tasks: tuple[Task, ...] = ()
    """The tasks the shared-adapter ablation trains on before solving any (all selected tasks)."""

    @property
    def threads(self) -> int | None:
        """Torch CPU threads asked for (None: the executor's default)."""
        return self.config.threads

    @property
    def splittable(self) -> bool:
        """Whether tasks may be solved apart (not so the shared adapter, trained once on all of them)."""
        return self.config.ttt.mode != "shared"

    def on_cpu(self) -> "SolverFactory":
        """The same factory with device 'auto' pinned to the CPU (for workers given no GPU)."""
        if self.config.device != "auto":
            return self
        return replace(self, config=replace(self.config, device="cpu"))

    def key(self) -> str:
        """What identifies a loaded Solver: the result-affecting settings plus the device."""
        return json.dumps({"result": self.config.result_affecting(), "device": self.config.device}, sort_keys=True,
                          default=str)

    def __call__(self, threads: int | None = None, progress: bool = False) -> Solver:
        config = self.config if threads is None else replace(self.config, threads=threads)
        solver = Solver(config, progress=progress)
        if self.shared_tasks:
            solver.prepare(list(self.shared_tasks))
        return solver
