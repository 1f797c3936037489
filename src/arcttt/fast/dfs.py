"""Depth-first sampling: every grid completion whose probability stays above a threshold.

The prompt is run once; the search walks the tree of grid-valid continuations,
most likely child first (so the first completion found is the greedy one),
and prunes a branch as soon as its cumulative probability drops below the
threshold. One KV cache serves the whole walk: going back up the tree only
crops it to the branch point. With threshold p there are at most 1/p results.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from ..data.codec import END, GridConstraint, Vocab
from ..data.tasks import MAX_SIDE
from ..errors import ArcTTTError
from .kv_cache import CACHE_KW, crop_cache, new_cache


@torch.inference_mode()
def dfs_decode(model, prompt: np.ndarray, vocab: Vocab, max_positions: int, threshold: float = 0.1,
               max_results: int = 8, max_nodes: int = 20_000, max_side: int = MAX_SIDE) -> list[tuple[list[int], float]]:
    """(token ids, log-probability) of each completion with probability >= threshold, best first."""
    if not 0 < threshold <= 1:
        raise ArcTTTError(f"dfs threshold must be in (0, 1], got {threshold}")
    device = next(model.parameters()).device
    ids = torch.as_tensor(prompt, device=device).unsqueeze(0)
    if ids.shape[1] >= max_positions:
        raise ArcTTTError(f"prompt of {ids.shape[1]} tokens leaves no room under the context limit {max_positions}")
    cache = new_cache(model)  # grows in place; cropping back up the tree only moves its end
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1, **({CACHE_KW: cache} if cache is not None else {}))
    cache = getattr(out, CACHE_KW)
    min_logp = math.log(threshold)
    lookup = torch.tensor(vocab.ids, device=device)
    results: list[tuple[list[int], float]] = []
    # Each frame: (symbol log-probs at this node, cache length, tokens so far, log-prob so far, constraint).
    root = torch.log_softmax(out.logits[0, -1].float(), -1)[lookup].cpu()
    stack = [(root, ids.shape[1], [], 0.0, GridConstraint(max_side))]
    nodes = 0
    while stack and len(results) < max_results and nodes < max_nodes:
        sym_logp, length, tokens, logp, constraint = stack.pop()
        allowed = constraint.allowed()
        children = sorted(((logp + float(sym_logp[s]), s) for s in allowed), reverse=True)
        children = [(lp, s) for lp, s in children if lp >= min_logp]
        # Push in reverse so the most likely child is explored first.
        expand = []
        for lp, s in children:
            c = copy.copy(constraint)
            c.step(s)
            if s == END:
                results.append((tokens + [vocab.id(s)], lp))
            elif length + 1 < max_positions:
                expand.append((lp, s, c))
        for lp, s, c in reversed(expand):
            stack.append((None, length, tokens + [vocab.id(s)], lp, c))
        # Evaluate the next frame lazily: only the top of the stack needs its logits now.
        while stack and stack[-1][0] is None:
            _, plen, ptokens, plp, pc = stack.pop()
            crop_cache(cache, plen)
            step = torch.tensor([[ptokens[-1]]], device=device)
            out = model(input_ids=step, position_ids=torch.tensor([[plen]], device=device), use_cache=True,
                        **{CACHE_KW: cache})
            cache = getattr(out, CACHE_KW)
            nodes += 1
            stack.append((torch.log_softmax(out.logits[0, -1].float(), -1)[lookup].cpu(), plen + 1, ptokens, plp, pc))
            break
    results.sort(key=lambda r: -r[1])
    return results
