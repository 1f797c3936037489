"""Attention of short CPU training batches in fp32, also under bf16 autocast.

On a CPU, SDPA's flash kernel in bf16 has a fixed cost per backward call that makes it slower
than the same kernel in fp32 below about 600 tokens, and the fp32 flash kernel also beats the
math path at every short length (docs/performance.md, "Attention"). So training batches shorter than FP32_BELOW run their attention in fp32: the values are computed
more precisely, never less, and everything else keeps the run's precision.

It is a Hugging Face attention implementation (transformers' AttentionInterface) wrapping the
library's own SDPA one; `fp32_short_attention(model)` switches a model that uses "sdpa" to it
for the length of a training run and back afterwards.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

NAME = "arcttt_short_fp32_sdpa"
FP32_BELOW = 640
"""Training batches with fewer tokens than this run attention in fp32 on the CPU."""

_registered = False


def _attention(module, query, key, value, attention_mask, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if torch.is_grad_enabled() and key.shape[-2] < FP32_BELOW:
        with torch.autocast("cpu", enabled=False):
            return sdpa_attention_forward(module, query.float(), key.float(), value.float(), attention_mask,
                                          **kwargs)
    return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)


def _register() -> None:
    global _registered
    if not _registered:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

        AttentionInterface.register(NAME, _attention)
        AttentionMaskInterface.register(NAME, sdpa_mask)
        _registered = True


@contextmanager
def fp32_short_attention(model):
    """Inside the block, a Hugging Face model that uses SDPA on the CPU computes the attention of
    short sequences in fp32 while it trains; any other model is left alone. Yields whether it switched."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # PEFT-wrapped or not
    config = getattr(base, "config", None)
    switch = (getattr(config, "_attn_implementation", None) == "sdpa"
              and next(model.parameters()).device.type == "cpu")
    if switch:
        _register()
        config._attn_implementation = NAME
    try:
        yield switch
    finally:
        if switch:
            config._attn_implementation = "sdpa"
