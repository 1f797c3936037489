"""LoRA layers trained through their merged weight, W + s * B @ A, where that is cheaper.

PEFT computes a LoRA linear layer as base(x) + s * B(A(x)): three matmuls forward, six
backward, plus the scaling and the sum. When the rank is large next to the layer (a small
grid LM: rank 32 on 128-wide layers), multiplying x once by the merged weight does less
work: forward x @ W', backward dx and dW' (one matmul each), then dA and dB from dW'
(tiny). In FLOPs per token: 2*in*out + 3*r*(in+out) the PEFT way against 3*in*out merged,
so the merged form is used where 3*r*(in+out) >= in*out; large models keep PEFT's path.
The values are the same sums in another order (float rounding aside), and the adapter's
parameters, their gradients and the optimizer see exactly what they see under PEFT.
"""

from __future__ import annotations

import types
from contextlib import contextmanager

import torch
import torch.nn.functional as F


def merge_pays(in_features: int, out_features: int, rank: int) -> bool:
    """Whether one matmul by the merged weight costs no more FLOPs than PEFT's low-rank path."""
    return 3 * rank * (in_features + out_features) >= in_features * out_features


def _mergeable(module) -> bool:
    """A plain PEFT LoRA Linear whose adapters can be merged exactly: no dropout, no variant (DoRA),
    not already merged, adapters on, weight stored as (out, in)."""
    from peft.tuners.lora import layer as lora_layer

    if type(module) is not lora_layer.Linear or module.merged or module.disable_adapters:
        return False
    if getattr(module, "fan_in_fan_out", False) or getattr(module, "lora_variant", None):
        return False
    active = [a for a in module.active_adapters if a in module.lora_A]
    if not active:
        return False
    for a in active:
        if not isinstance(module.lora_dropout[a], torch.nn.Identity) or getattr(module, "use_dora", {}).get(a):
            return False
    base = module.get_base_layer()
    return all(merge_pays(base.in_features, base.out_features, module.r[a]) for a in active)


def _merged_forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    base = self.get_base_layer()
    weight = base.weight
    for a in self.active_adapters:
        if a in self.lora_A:
            weight = weight + (self.lora_B[a].weight @ self.lora_A[a].weight) * self.scaling[a]
    return F.linear(x, weight, base.bias)


@contextmanager
def merged_lora_training(model):
    """Inside the block, the LoRA layers where merging pays run through their merged weight;
    afterwards they are PEFT's own layers again. Yields how many layers were switched."""
    switched = [m for m in model.modules() if _mergeable(m)]
    for m in switched:
        m.forward = types.MethodType(_merged_forward, m)
    try:
        yield len(switched)
    finally:
        for m in switched:
            del m.forward
