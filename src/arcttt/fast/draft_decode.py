"""Greedy decoding with drafts copied from the query's input grid (prompt-lookup speculation).

Decoding is bound by reading the KV cache once per generated token. ARC outputs are mostly
copies: of the input grid cell by cell (same-shape tasks) or of the row above (tilings,
stripes). So each step proposes the next few symbols from those sources and the model checks
them all in one forward pass; the longest prefix that equals the model's own constrained
greedy choices is kept, plus the model's next choice. The result is the greedy decode, in
fewer forward passes: a draft never changes which token wins, only how many are verified at
once. (Scores of several tokens computed together can differ from one-at-a-time scores in
the last float bits, as with any batching.)
"""

from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch

from ..data.codec import END, INPUT, OUTPUT, GridConstraint, Vocab
from ..data.tasks import MAX_SIDE
from ..errors import ArcTTTError
from .kv_cache import CACHE_KW, crop_cache, new_cache

MIN_DRAFT, MAX_DRAFT = 1, 64
"""Drafts per pass: doubled after a pass that settles them all, halved (down to MIN_DRAFT) otherwise.
A floor of 1 serves short outputs that are not copies, which reject most drafts (docs/performance.md)."""


def query_symbols(prompt_symbols: np.ndarray) -> list[int]:
    """Symbols of the query input grid: between the prompt's last INPUT and its final OUTPUT marker."""
    starts = np.flatnonzero(prompt_symbols == INPUT)
    if len(starts) == 0 or prompt_symbols[-1] != OUTPUT:
        return []
    return prompt_symbols[starts[-1] + 1: -1].tolist()


def draft(out: list[int], width: int | None, source: list[int], n: int, window: int = 8) -> list[int]:
    """Up to n symbols guessed to follow `out`, copied from the source grid at the same position
    or from the output's row above: whichever would have guessed more of the last `window`
    symbols (the source on a tie, and alone while the output's width is unknown)."""
    t = len(out)
    aligned = (source + [END])[t: t + n]
    if width is None:
        return aligned
    step = width + 1
    recent = range(max(step, t - window), t)
    hits_source = sum(1 for i in recent if i < len(source) and out[i] == source[i])
    hits_above = sum(1 for i in recent if out[i] == out[i - step])
    if aligned and hits_source >= hits_above:
        return aligned
    guess = list(out)
    for _ in range(n):
        guess.append(guess[len(guess) - step])
    return guess[t:] if t >= step else aligned


def draft_greedy_decode(model, prompt: np.ndarray, vocab: Vocab, max_positions: int,
                        max_new_tokens: int, max_side: int = MAX_SIDE) -> tuple[list[int], float]:
    """Constrained greedy decoding of one prompt: (generated token ids, total log-probability)."""
    return batched_draft_greedy_decode(model, [prompt], vocab, max_positions, max_new_tokens, max_side)[0]


class _Row:
    """One prompt's decoding state: its output so far, grid constraint, score and pending drafts."""

    def __init__(self, source: list[int], max_side: int):
        self.source = source
        self.out: list[int] = []
        self.constraint = GridConstraint(max_side)
        self.total = 0.0
        self.pending: list[int] = []

    def walk(self, step_logp: list[list[float]], budget: int) -> tuple[list[tuple[int, float]], int, bool]:
        """The greedy choices that the last pass's scores settle, without taking them: (choice, score)
        pairs up to the first rejected draft, how many drafts were accepted, whether the grid ended."""
        constraint = copy.copy(self.constraint)
        choices: list[tuple[int, float]] = []
        for j, row in enumerate(step_logp):
            choice = max(constraint.allowed(), key=row.__getitem__)  # first of equals, as argmax
            constraint.step(choice)
            choices.append((choice, row[choice]))
            if choice == END or len(self.out) + len(choices) >= budget:
                return choices, j, True
            if not (j < len(self.pending) and self.pending[j] == choice):
                return choices, j, False
        return choices, len(step_logp) - 1, False

    def take(self, choices: list[tuple[int, float]]) -> None:
        for choice, score in choices:
            self.constraint.step(choice)
            self.out.append(choice)
            self.total += score


@torch.inference_mode()
def batched_draft_greedy_decode(model, prompts: Sequence[np.ndarray], vocab: Vocab, max_positions: int,
                                max_new_tokens: int, max_side: int = MAX_SIDE) -> list[tuple[list[int], float]]:
    """Constrained greedy decoding of prompts of one length together, each checking its own drafts.

    Every pass feeds each row its last choice and its drafts (padded to a common length). The rows
    then advance together by the fewest tokens any unfinished row settled (accepted drafts plus one
    choice), so the KV cache stays rectangular and needs no mask; a row whose grid ended leaves the
    batch with all its settled tokens. Per row the result is its greedy decode, as one at a time.
    """
    device = next(model.parameters()).device
    n = len(prompts[0])
    if any(len(p) != n for p in prompts):
        raise ArcTTTError("batched draft decoding needs prompts of one length")
    budget = min(max_new_tokens, max_positions - n)
    if budget <= 0:
        raise ArcTTTError(f"prompt of {n} tokens leaves no room under the context limit {max_positions}")
    sym_of = vocab.symbol_of()
    lookup = list(vocab.ids)
    lookup_t = torch.tensor(lookup, device=device)
    to_symbol = np.full(max(max(sym_of), max(int(np.max(p)) for p in prompts)) + 1, -1)
    to_symbol[list(sym_of)] = list(sym_of.values())
    rows = [_Row(query_symbols(to_symbol[np.asarray(p)]), max_side) for p in prompts]
    cache = new_cache(model)
    if cache is None:
        raise ArcTTTError("draft decoding needs a Hugging Face model with full attention (a croppable KV cache)")
    ids = torch.as_tensor(np.stack([np.asarray(p) for p in prompts]), device=device)
    result = model(input_ids=ids, use_cache=True, logits_to_keep=1, **{CACHE_KW: cache})
    alive = list(range(len(rows)))  # the rows in the batch, in cache order
    size = MIN_DRAFT
    while True:
        cache = getattr(result, CACHE_KW)
        step_logp = torch.log_softmax(result.logits.float(), -1)[:, :, lookup_t].tolist()
        walks = [rows[r].walk(step_logp[i], budget) for i, r in enumerate(alive)]
        going = [i for i, (_, _, ended) in enumerate(walks) if not ended]
        advance = min((len(walks[i][0]) for i in going), default=0)
        all_accepted = all(walks[i][1] == len(rows[alive[i]].pending) > 0 for i in going)
        for i, (choices, _, ended) in enumerate(walks):
            rows[alive[i]].take(choices if ended else choices[:advance])
        if not going:
            break
        if len(going) < len(alive):
            cache.batch_select_indices(torch.tensor(going, device=device))
            alive = [alive[i] for i in going]
        # the cache holds the prompt plus every settled symbol but the last; drop rejected drafts
        keep = n + len(rows[alive[0]].out) - 1
        crop_cache(cache, keep)
        size = min(MAX_DRAFT, size * 2) if all_accepted else max(MIN_DRAFT, size // 2)
        room = budget - len(rows[alive[0]].out)
        for r in alive:
            row = rows[r]
            guess = draft(row.out, row.constraint.width, row.source, min(size, room - 1))
            row.pending = [s for s in guess if 0 <= s < len(lookup)]
        width = max(len(rows[r].pending) for r in alive)
        feed = [[rows[r].out[-1]] + rows[r].pending + [END] * (width - len(rows[r].pending)) for r in alive]
        ids = torch.tensor([[lookup[s] for s in f] for f in feed], device=device)
        pos = torch.arange(keep, keep + width + 1, device=device).unsqueeze(0).expand(len(alive), -1)
        result = model(input_ids=ids, position_ids=pos, use_cache=True, **{CACHE_KW: cache})
    return [([lookup[s] for s in row.out], row.total) for row in rows]
