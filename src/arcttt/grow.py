"""Deepen a trained Llama-style model without changing what it computes.

Why: a small model trained for hours can gain capacity without starting over. Each
new layer is a copy of its neighbour whose two residual outputs (attention o_proj and
MLP down_proj) are zeroed, so it adds nothing to the residual stream until training
moves those weights; the deepened model's logits equal the original's at step 0.
"""

from __future__ import annotations

import copy

from .errors import ArcTTTError

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
    param = next(model.parameters())
    grown = type(model)(config).to(device=param.device, dtype=param.dtype)
    grown.generation_config = copy.deepcopy(model.generation_config)
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
    missing, unexpected = grown.load_state_dict(new_state, strict=False)
    missing = [k for k in missing if not k.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        raise ArcTTTError(f"cannot deepen this model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    grown.train(model.training)
    return grown


__all__ = ["deepen", "layer_sources", "RESIDUAL_OUTPUTS"]
