"""Reshape a trained Llama-style model instead of training a new one from scratch.

deepen: a small model trained for hours can gain capacity without starting over. Each
new layer is a copy of its neighbour whose two residual outputs (attention o_proj and
MLP down_proj) are zeroed, so it adds nothing to the residual stream until training
moves those weights; the deepened model's logits equal the original's at step 0.

merge_heads: fewer, wider attention heads run faster on a CPU (SDPA's CPU kernels do
more per call with 64-wide heads than with 32-wide ones), so a trained model's heads
are merged in groups: each wide head's query and key are its group's concatenated, so
its score is the sum of the group's scores. That is not the same function (one softmax
over the summed scores instead of one per head), so a merged model needs further
training; it starts from everything else the original learned.
"""

from __future__ import annotations

import copy
import math

import torch

from ..errors import ArcTTTError

# The projections that write into the residual stream: zero them and a layer is the identity.
RESIDUAL_OUTPUTS = ("self_attn.o_proj.weight", "mlp.down_proj.weight")


def layer_sources(old_layers: int, new_layers: int) -> list[tuple[int, bool]]:
    """For each new layer: (old layer it copies, whether it is an added copy that starts as identity).

    Copies sit right after their source, spread evenly: 4 -> 6 gives 0, 0', 1, 2, 2', 3."""
    sources = [i * old_layers // new_layers for i in range(new_layers)]
    return [(s, i > 0 and sources[i - 1] == s) for i, s in enumerate(sources)]


def deepen(model, num_layers: int):
    """A new model of the same class with num_layers decoder layers computing the same function."""
    old = model.config.num_hidden_layers
    if num_layers <= old:
        raise ArcTTTError(f"grow_layers must exceed the model's {old} layers, got {num_layers}")
    config = copy.deepcopy(model.config)
    config.num_hidden_layers = num_layers
    if getattr(config, "layer_types", None):
        config.layer_types = [config.layer_types[s] for s, _ in layer_sources(old, num_layers)]
    state = model.state_dict()
    new_state = {k: v for k, v in state.items() if ".layers." not in k}
    for i, (src, added) in enumerate(layer_sources(old, num_layers)):
        prefix = f"model.layers.{src}."
        for key, value in state.items():
            if key.startswith(prefix):
                name = key[len(prefix):]
                value = value.clone()
                if added and name in RESIDUAL_OUTPUTS:
                    value.zero_()
                new_state[f"model.layers.{i}.{name}"] = value
    return _rebuilt(model, config, new_state, "deepen")


def _rebuilt(model, config, state: dict, action: str):
    """A model of model's class, device, dtype and training mode with a new config, holding state."""
    param = next(model.parameters())
    new = type(model)(config).to(device=param.device, dtype=param.dtype)
    new.generation_config = copy.deepcopy(model.generation_config)
    missing, unexpected = new.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        raise ArcTTTError(f"cannot {action} this model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    new.train(model.training)
    return new


def merged_rotary_order(old_head_dim: int, group: int) -> list[int]:
    """For each dimension of a merged head, the (part, dimension) of the old head it takes, flattened
    as part * old_head_dim + dimension.

    RoPE rotates dimension i with i + half at frequency theta^(-2i/head_dim). In a head `group` times
    wider, frequency index group * i equals the old head's index i, so the first head of a group keeps
    its exact frequencies and the others take the next-lower ones (group * i + part)."""
    half, new_half = old_head_dim // 2, old_head_dim * group // 2
    order = [0] * (old_head_dim * group)
    for part in range(group):
        for i in range(half):
            j = group * i + part
            order[j] = part * old_head_dim + i
            order[j + new_half] = part * old_head_dim + i + half
    return order


def merge_heads(model, num_heads: int):
    """A new model of the same class whose attention has num_heads heads, each merging a group of old heads."""
    config = copy.deepcopy(model.config)
    old_heads = config.num_attention_heads
    if config.num_key_value_heads != old_heads:
        raise ArcTTTError("merge_heads needs as many key/value heads as query heads")
    if num_heads >= old_heads or old_heads % num_heads:
        raise ArcTTTError(f"merge_heads needs a divisor of the model's {old_heads} heads below it, got {num_heads}")
    group = old_heads // num_heads
    old_dim = getattr(config, "head_dim", None) or config.hidden_size // old_heads
    config.num_attention_heads = config.num_key_value_heads = num_heads
    config.head_dim = old_dim * group
    order = torch.tensor(merged_rotary_order(old_dim, group))
    rows = torch.cat([m * config.head_dim + order for m in range(num_heads)])
    state = {}
    for key, value in model.state_dict().items():
        if ".self_attn.q_proj." in key or ".self_attn.k_proj." in key:
            value = value[rows]  # old heads m*group.. are rows m*head_dim.. already; reorder within for RoPE
            if ".q_proj." in key:  # the wider head divides by sqrt(group * old_dim): keep each score's scale
                value = value * math.sqrt(group)
        state[key] = value.clone()
    return _rebuilt(model, config, state, "merge the heads of")


__all__ = ["deepen", "layer_sources", "merge_heads", "merged_rotary_order", "RESIDUAL_OUTPUTS"]
