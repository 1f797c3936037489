"""The settings of a solve run (torch-free): what is solved, with which model and method, and where.

SolveConfig is saved as RUN/config.json; every `arcttt solve` flag is one of its fields
(`arcttt.cli.options` builds the flags from it), executor and worker settings included.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import ArcTTTError
from ..fields import flat_dict, from_dict, option
from ..method.config import SELECTIONS, InferenceConfig, TTTConfig
from ..models import DEFAULT_MODEL
from ..search.config import SearchConfig
from .ensemble import SOLVERS

EXECUTORS = ("serial", "processes", "ray")
BACKENDS = ("hf", "vllm")


@dataclass
class ExecutorConfig:
    """Where each task's solve runs; never what it computes."""

    kind: str = option("serial", flag="--executor", choices=EXECUTORS)
    """serial: this process; processes: --workers local processes, largest tasks first (e.g. 2 single-threaded
    ones on 2 cores); ray: one Ray task per ARC task on a Ray cluster."""
    workers: int = 2
    """Worker processes of --executor processes."""
    ray_address: str | None = None
    """An existing Ray cluster (default: start a local one)."""
    gpus_per_task: float = 0.0
    """GPUs per Ray task (fractions below 1 share a GPU)."""
    cpus_per_task: float = 1.0
    """CPUs per Ray task, also the torch threads of each Ray worker."""
    ray_retries: int = 2
    """Re-runs of a task whose Ray worker process died."""


@dataclass
class SolveConfig:
    """One run of test-time training + augmented inference + voting over a dataset."""

    dataset: str = "arc1/eval"
    """Bundled name (arc1/train, arc1/eval, arc2/train, arc2/eval), folder of task JSON files, task file or
    Kaggle *_challenges.json."""
    tasks: str | None = None
    """Subset: dev80, a CSV with a task_id column, or comma-separated ids."""
    solver: str = option("ensemble", choices=SOLVERS)
    """ensemble: verified programs answer first, TTT fills the rest (and runs only where it is needed);
    ttt: test-time training + augmented inference + voting alone; search: the program search alone (no model)."""
    model: str = DEFAULT_MODEL
    """Model folder (grid LM or any local Hugging Face causal LM) or a shipped model's name."""
    gguf_file: str | None = None
    """GGUF file name inside --model (e.g. SmolLM2)."""
    out: str = "runs/solve"
    """Run directory (running the same command again resumes it)."""
    max_tasks: int | None = None
    """Solve only the first N selected tasks."""
    seed: int = 0
    """Run seed: every random choice derives from (seed, task id)."""
    device: str = "auto"
    """auto (CUDA when present, else CPU), cpu, cuda, cuda:1 ..."""
    dtype: str = "auto"
    """Weights' dtype: auto (bf16 on CUDA, fp32 on CPU), fp32, bf16."""
    threads: int | None = None
    """Torch CPU threads (default: one per core; use 1 on a machine busy with other jobs)."""
    backend: str = option("hf", choices=BACKENDS)
    """Inference engine: hf (transformers, with arcttt's decoding accelerations) or vllm (a GPU serving the
    base model once, each task's LoRA adapter per request; needs --ttt lora or none)."""
    voting: str = option("poe", choices=SELECTIONS)
    """How two attempts are chosen: poe (product of experts: the top candidates of hierarchical voting
    rescored under every inference view; the default, chosen on select40), hierarchical (the paper) or flat."""
    poe_candidates: int = 6
    """Candidates rescored by --voting poe."""
    task_seconds: float | None = None
    """One time budget per task: the search gets at most a quarter, inference what its views cost at the
    speed measured on earlier tasks (at most a fifth), TTT the rest (as many steps as this machine's speed
    allows); views are decoded by priority while they fit (raise --orders / --infer-colours for more views
    to spend it on). Default: fixed epochs and views. See arcttt.run.budget."""
    report: bool = True
    """Write RUN/report.html when the run ends."""
    search: SearchConfig = option(default_factory=SearchConfig, prefix="search-")
    ttt: TTTConfig = option(default_factory=TTTConfig, prefix="ttt-")
    inference: InferenceConfig = option(default_factory=InferenceConfig, prefix="")
    executor: ExecutorConfig = option(default_factory=ExecutorConfig, prefix="")

    NOT_RESULT_AFFECTING = ("out", "max_tasks", "executor", "device", "threads", "report")

    UNUSED_BY = {"search": ("ttt", "inference", "voting", "poe_candidates"), "ttt": ("search",)}
    """Settings a solver never reads: a search run resumes under other TTT or inference defaults."""

    def result_affecting(self) -> dict:
        """The settings that change predictions, flattened ('ttt.lr': ...); a resumed run must agree on them."""
        d = dataclasses.asdict(self)
        for k in (*self.NOT_RESULT_AFFECTING, *self.UNUSED_BY.get(self.solver, ())):
            d.pop(k)
        return flat_dict(d)

    @classmethod
    def from_dict(cls, d: dict) -> "SolveConfig":
        d = dict(d)
        if isinstance(d.get("executor"), str):  # config.json of runs before executor settings were saved
            d["executor"] = {"kind": d["executor"]}
        d.setdefault("voting", "hierarchical")  # runs saved before --voting had one method only
        inference = d.get("inference")
        if isinstance(inference, dict) and "colours" not in inference:  # before --infer-colours: no copies
            inference = {**inference, "colours": 0}
            if inference.pop("colour_permutation", False):
                raise ArcTTTError("config.json: this run permuted the colours of every view (a setting since "
                                  "replaced by --infer-colours); it cannot be resumed or combined")
            d["inference"] = inference
        return from_dict(cls, d, "config.json")
