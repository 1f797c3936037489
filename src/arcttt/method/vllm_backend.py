"""Augmented inference through vLLM: the fine-tuned base served once, each task's LoRA adapter per request.

Same contract as :func:`arcttt.inference.predict` (a list per test input of
:class:`arcttt.voting.Candidate`, already inverted to the task's frame, with the
total log-probability of the generated tokens), so voting and the run directory
do not know which engine decoded.

How a task goes through it:

1. TTT trains the task's adapter (``TaskAdapter.adapt``); :func:`save_adapter`
   writes it with peft's ``save_pretrained`` (adapter_config.json + safetensors).
2. :func:`build_views` makes the same augmented prompts as the HF path
   (``inference.augmented_views``: same transforms, orders and seeds).
3. :class:`VLLMBackend` sends every prompt of every task in one ``LLM.generate``
   call as token ids (``TokensPrompt``), each with its task's ``LoRARequest``;
   greedy (temperature 0), output restricted to grid tokens (digits, newline,
   END) with ``allowed_token_ids``, stopping at END.
4. :func:`candidates_from_outputs` parses, inverts and returns candidates.

Differences from the HF engine (``inference.greedy_decode``):
- ``allowed_token_ids`` restricts the *set* of tokens, not the grid's shape; the
  HF engine's GridConstraint also forces equal row widths. A ragged output is
  dropped here (it cannot be parsed) where the HF engine would have forced a
  newline. ``constraint='regex'`` instead uses vLLM's structured outputs with
  :func:`grid_regex` (rectangular grids up to 30x30), at a grammar-compile cost.
- Log-probabilities: vLLM's default ``logprobs_mode`` reports log-softmax over the
  whole vocabulary before the allow-list, as the HF engine does, but bf16 kernels
  and batching differ, so values agree only to a few digits.
- vLLM's LoRA layers cover the attention and MLP projections; LoRA on ``lm_head``
  (in TTTConfig's default target modules) may be refused by recent vLLM versions
  (:func:`adapter_problems` reports it before the engine does). Train adapters for
  vLLM with ``target_modules`` without ``lm_head`` when that happens.

vLLM is imported lazily: this module imports (and its pure parts run) without it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..data.codec import END, NEWLINE, CodecError, Vocab, decode_grid, output_budget
from ..data.tasks import MAX_SIDE, Task
from ..errors import ArcTTTError, TransformError
from .config import InferenceConfig
from .inference import View, views_within
from .voting import Candidate

log = logging.getLogger("arcttt")

# LoRA ranks vLLM's kernels have long accepted for max_lora_rank (older versions refuse others).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
VLLM_LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

# generate(prompts, adapters, max_tokens) -> [(generated token ids, total log-probability)]
GenerateFn = Callable[[Sequence[Sequence[int]], Sequence["str | None"], Sequence[int]], list[tuple[list[int], float]]]


# ---------------------------------------------------------------- pure parts (no vllm needed)

def grid_token_ids(vocab: Vocab) -> list[int]:
    """Token ids an output grid may use: the ten colours, newline and END."""
    return [vocab.id(s) for s in (*range(10), NEWLINE, END)]


def grid_regex(max_side: int = MAX_SIDE) -> str:
    """A regular expression for the text of a rectangular grid of 1..max_side rows and columns.

    One alternative per width w: (w digits, newline) repeated 1..max_side times; END is
    the tokenizer's EOS, which structured decoding allows once the pattern is complete.
    """
    return "|".join(f"(?:[0-9]{{{w}}}\\n){{1,{max_side}}}" for w in range(1, max_side + 1))


@dataclass
class Request:
    """One prompt: which task and test input it belongs to, its view, and its task's adapter."""

    task_index: int
    test_index: int
    view: View
    adapter: str | None
    max_tokens: int
    max_side: int = MAX_SIDE


def build_views(task: Task, test_index: int, config: InferenceConfig, vocab: Vocab, seed: int,
                max_positions: int) -> list[View]:
    """The HF engine's augmented views that fit the context (inference.views_within, as predict)."""
    return views_within(task, test_index, config, vocab, seed, max_positions)


def build_requests(items: Sequence[tuple[Task, str | None]], config: InferenceConfig, vocab: Vocab, seed: int,
                   max_positions: int) -> list[Request]:
    """All prompts of all (task, adapter folder) items, in a stable order."""
    out = []
    for ti, (task, adapter) in enumerate(items):
        for xi in range(len(task.test)):
            for v in build_views(task, xi, config, vocab, seed, max_positions):
                budget = min(output_budget(task.grid_limit()), max_positions - len(v.prompt))
                out.append(Request(ti, xi, v, adapter, budget, task.grid_limit()))
    return out


def candidates_from_outputs(requests: Sequence[Request], outputs: Sequence[tuple[Sequence[int], float]],
                            vocab: Vocab, n_tests: Sequence[int]) -> list[list[list[Candidate]]]:
    """Per item, per test input: the parsed, inverted candidates (unparseable outputs are dropped)."""
    if len(requests) != len(outputs):
        raise ArcTTTError(f"{len(requests)} prompts but {len(outputs)} outputs")
    result: list[list[list[Candidate]]] = [[[] for _ in range(n)] for n in n_tests]
    end = vocab.id(END)
    for req, (tokens, logprob) in zip(requests, outputs):
        tokens = list(tokens)
        if tokens and tokens[-1] != end and len(tokens) < req.max_tokens:
            tokens.append(end)  # a stop token some engines leave out of the output ids
        try:
            grid = req.view.transform.invert(decode_grid(tokens, vocab, req.max_side))
        except (CodecError, TransformError):
            continue
        result[req.task_index][req.test_index].append(Candidate(grid, req.view.transform.name, float(logprob)))
    return result


def predict_with(generate: GenerateFn, items: Sequence[tuple[Task, str | None]], vocab: Vocab,
                 config: InferenceConfig | None = None, seed: int = 0,
                 max_positions: int = 8192) -> list[list[list[Candidate]]]:
    """The engine-independent pipeline: build every prompt, decode them in one call, map back."""
    config = config or InferenceConfig()
    requests = build_requests(items, config, vocab, seed, max_positions)
    outputs = generate([r.view.prompt.ids.tolist() for r in requests], [r.adapter for r in requests],
                       [r.max_tokens for r in requests])
    return candidates_from_outputs(requests, outputs, vocab, [len(t.test) for t, _ in items])


def save_adapter(peft_model, folder: str | Path) -> str:
    """Write a peft model's adapter (not the base) where vLLM can load it; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(str(folder))
    if not (folder / "adapter_config.json").exists():
        raise ArcTTTError(f"{folder}: no adapter_config.json was written (is this a peft model?)")
    return str(folder)


def adapter_problems(folder: str | Path, max_lora_rank: int) -> list[str]:
    """What vLLM would refuse in a saved adapter: a rank above max_lora_rank, unsupported modules."""
    cfg_path = Path(folder) / "adapter_config.json"
    if not cfg_path.exists():
        return [f"{folder}: no adapter_config.json"]
    cfg = json.loads(cfg_path.read_text())
    problems = []
    if int(cfg.get("r", 0)) > max_lora_rank:
        problems.append(f"{folder}: LoRA rank {cfg['r']} is above max_lora_rank {max_lora_rank}")
    targets = cfg.get("target_modules") or []
    targets = [targets] if isinstance(targets, str) else list(targets)
    extra = sorted(t for t in targets if t not in VLLM_LORA_MODULES)
    if extra:
        problems.append(f"{folder}: LoRA on {', '.join(extra)} may not be supported by vLLM "
                        f"(supported: {', '.join(VLLM_LORA_MODULES)})")
    if cfg.get("modules_to_save"):
        problems.append(f"{folder}: modules_to_save {cfg['modules_to_save']} is not supported by vLLM")
    return problems


def output_from_vllm(completion) -> tuple[list[int], float]:
    """(token ids, total log-probability) of one vLLM CompletionOutput."""
    tokens = list(completion.token_ids)
    lp = getattr(completion, "cumulative_logprob", None)
    if lp is None and getattr(completion, "logprobs", None):
        lp = sum(step[t].logprob for step, t in zip(completion.logprobs, tokens) if t in step)
    return tokens, float(lp or 0.0)


# ---------------------------------------------------------------- the engine

class VLLMBackend:
    """One vLLM engine over the (fine-tuned) base model with LoRA enabled; adapters per request."""

    def __init__(self, model_path: str | Path, max_lora_rank: int = 128, max_loras: int = 8,
                 dtype: str = "bfloat16", gpu_memory_utilization: float = 0.5, max_model_len: int | None = None,
                 enforce_eager: bool = False, seed: int = 0, constraint: str = "tokens", **llm_kwargs):
        if max_lora_rank not in VLLM_LORA_RANKS:
            log.warning("vllm: max_lora_rank %d is not one of %s; older vLLM versions refuse it",
                        max_lora_rank, VLLM_LORA_RANKS)
        if constraint not in ("tokens", "regex"):
            raise ArcTTTError(f"constraint '{constraint}': choose 'tokens' (allowed_token_ids) or 'regex'")
        try:
            from vllm import LLM
        except ModuleNotFoundError:
            raise ArcTTTError("the vLLM backend needs vllm (and CUDA): pip install -e '.[vllm]'") from None
        from transformers import AutoConfig, AutoTokenizer

        self.model_path = str(model_path)
        if not Path(self.model_path).exists():
            raise ArcTTTError(f"model '{self.model_path}' does not exist")
        self.vocab = Vocab.from_tokenizer(AutoTokenizer.from_pretrained(self.model_path))
        hf_max = int(getattr(AutoConfig.from_pretrained(self.model_path), "max_position_embeddings", 8192))
        self.max_positions = min(max_model_len or hf_max, hf_max)
        self.max_lora_rank = max_lora_rank
        self.constraint = constraint
        self._lora_ids: dict[str, int] = {}
        self.llm = LLM(model=self.model_path, enable_lora=True, max_lora_rank=max_lora_rank, max_loras=max_loras,
                       dtype=dtype, gpu_memory_utilization=gpu_memory_utilization, max_model_len=self.max_positions,
                       enforce_eager=enforce_eager, seed=seed, **llm_kwargs)

    def lora_request(self, adapter: str | None):
        """A LoRARequest for an adapter folder (a stable integer id per folder), None for the base."""
        if adapter is None:
            return None
        from vllm.lora.request import LoRARequest

        adapter = str(Path(adapter).resolve())
        if adapter not in self._lora_ids:
            for p in adapter_problems(adapter, self.max_lora_rank):
                log.warning("vllm: %s", p)
            self._lora_ids[adapter] = len(self._lora_ids) + 1  # ids start at 1 (0 means no adapter)
        return LoRARequest(Path(adapter).name, self._lora_ids[adapter], adapter)

    def _sampling_params(self, max_tokens: int):
        from vllm import SamplingParams

        kw = dict(temperature=0.0, max_tokens=max_tokens, logprobs=0, detokenize=False,
                  stop_token_ids=[self.vocab.id(END)])
        if self.constraint == "regex":
            try:
                from vllm.sampling_params import StructuredOutputsParams

                kw["structured_outputs"] = StructuredOutputsParams(regex=grid_regex())
            except ImportError:  # vLLM < 0.11
                from vllm.sampling_params import GuidedDecodingParams

                kw["guided_decoding"] = GuidedDecodingParams(regex=grid_regex())
        else:
            kw["allowed_token_ids"] = grid_token_ids(self.vocab)
        return SamplingParams(**kw)

    def generate(self, prompts: Sequence[Sequence[int]], adapters: Sequence[str | None],
                 max_tokens: Sequence[int]) -> list[tuple[list[int], float]]:
        """Greedy, grid-restricted decoding of token-id prompts, each with its own adapter."""
        from vllm.inputs import TokensPrompt

        if not prompts:
            return []
        inputs = [TokensPrompt(prompt_token_ids=list(map(int, p))) for p in prompts]
        params = [self._sampling_params(int(m)) for m in max_tokens]
        loras = [self.lora_request(a) for a in adapters]
        outs = self.llm.generate(inputs, params, lora_request=loras, use_tqdm=False)
        return [output_from_vllm(o.outputs[0]) for o in outs]

    def predict_many(self, items: Sequence[tuple[Task, str | None]], config: InferenceConfig | None = None,
                     seed: int = 0) -> list[list[list[Candidate]]]:
        """Candidates for many (task, adapter folder) pairs decoded together (one engine call)."""
        return predict_with(self.generate, [(t.without_solutions(), a) for t, a in items], self.vocab, config,
                            seed, self.max_positions)

    def predict(self, task: Task, config: InferenceConfig | None = None, seed: int = 0,
                adapter: str | None = None) -> list[list[Candidate]]:
        """Like inference.predict: candidates per test input of one task, with its adapter folder."""
        return self.predict_many([(task, adapter)], config, seed)[0]


def grid_text_ok(text: str) -> bool:
    """Whether `text` is a complete grid body under grid_regex (used by tests and checks)."""
    return re.fullmatch(grid_regex(), text) is not None


# ---------------------------------------------------------------- as the Solver's engine (`--backend vllm`)

VLLM_DTYPES = {"auto": "auto", "fp32": "float32", "float32": "float32", "bf16": "bfloat16", "bfloat16": "bfloat16",
               "fp16": "float16", "float16": "float16"}


class VLLMEngine:
    """`arcttt solve --backend vllm`: after TTT, each task's LoRA adapter is written to a folder and its
    views are decoded by one vLLM engine that serves the base model for the whole run."""

    def __init__(self, loaded, adapter, dtype: str = "auto"):
        import tempfile

        if adapter.config.mode == "full":
            raise ArcTTTError("the vLLM backend serves LoRA adapters over the base model, not per-task copies of "
                              "it: use --ttt lora (or none) with --backend vllm")
        if dtype not in VLLM_DTYPES:
            raise ArcTTTError(f"unknown dtype '{dtype}' for vLLM; use {', '.join(VLLM_DTYPES)}")
        self.adapter = adapter
        rank = next((r for r in VLLM_LORA_RANKS if r >= adapter.config.lora_rank), adapter.config.lora_rank)
        self.backend = VLLMBackend(loaded.path, max_lora_rank=rank, dtype=VLLM_DTYPES[dtype])
        self.folder = Path(tempfile.mkdtemp(prefix="arcttt-vllm-"))

    def predict(self, task: Task, config: InferenceConfig, seed: int) -> list[list[Candidate]]:
        """Candidates per test input of one task, decoded with its current adapter."""
        folder = None
        if self.adapter.config.mode in ("lora", "shared"):
            folder = save_adapter(self.adapter.model, self.folder / task.id)
        return self.backend.predict(task, config, seed, adapter=folder)
