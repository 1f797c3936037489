"""grow.deepen: a deepened model computes what the original did, and its added layers learn."""

from __future__ import annotations

import pytest
import torch

from arcttt.errors import ArcTTTError
from arcttt.grow import deepen, layer_sources
from arcttt.kv_cache import CACHE_KW
from arcttt.models import GridLMConfig, build_grid_lm


def test_added_layers_follow_their_source():
    assert layer_sources(4, 6) == [(0, False), (0, True), (1, False), (2, False), (2, True), (3, False)]
    assert layer_sources(2, 4) == [(0, False), (0, True), (1, False), (1, True)]


@pytest.fixture
def model():
    m = build_grid_lm(GridLMConfig(32, 2, 2, 2, 64, max_positions=256), seed=1)
    with torch.no_grad():  # nonzero everywhere, so an identity layer is not an accident of init
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m.eval()


def test_deepened_model_has_the_same_logits_and_kv_cache(model):
    grown = deepen(model, 5).eval()
    assert grown.config.num_hidden_layers == 5 and len(grown.model.layers) == 5
    assert model.config.num_hidden_layers == 2  # the original is untouched
    ids = torch.randint(0, 13, (2, 40))
    with torch.no_grad():
        a, b = model(input_ids=ids).logits, grown(input_ids=ids).logits
        assert torch.allclose(a, b, atol=1e-5)
        # cached decoding runs through every layer's cache slot
        out = grown(input_ids=ids[:, :30], use_cache=True)
        step = grown(input_ids=ids[:, 30:31], **{CACHE_KW: out.past_key_values}).logits
    assert torch.allclose(step[:, -1], b[:, 30], atol=1e-5)


def test_added_layers_receive_gradient(model):
    grown = deepen(model, 4).train()
    ids = torch.randint(0, 13, (2, 24))
    grown(input_ids=ids, labels=ids).loss.backward()
    added = grown.model.layers[1]  # a copy of layer 0 that starts as the identity
    assert added.self_attn.o_proj.weight.abs().sum() == 0
    assert added.self_attn.o_proj.weight.grad.abs().sum() > 0
    assert added.mlp.down_proj.weight.grad.abs().sum() > 0


def test_deepen_refuses_to_shrink(model):
    with pytest.raises(ArcTTTError, match="exceed"):
        deepen(model, 2)
