"""grow.deepen: a deepened model computes what the original did, and its added layers learn."""

from __future__ import annotations

import pytest
import torch

from arcttt.errors import ArcTTTError
from arcttt.fast.kv_cache import CACHE_KW
from arcttt.method.models import GridLMConfig, build_grid_lm
from arcttt.train.grow import deepen, layer_sources, merge_heads, merged_rotary_order


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


def test_merged_rotary_order_keeps_each_dimension_at_its_frequency_or_the_next_lower():
    old_dim, group, theta = 8, 2, 10000.0
    order = merged_rotary_order(old_dim, group)
    assert sorted(order) == list(range(old_dim * group))  # a permutation of the group's dimensions
    old_freq = [theta ** (-2 * (i % (old_dim // 2)) / old_dim) for i in range(old_dim)]
    new_dim = old_dim * group
    new_freq = [theta ** (-2 * (j % (new_dim // 2)) / new_dim) for j in range(new_dim)]
    for j, source in enumerate(order):
        part, dim = divmod(source, old_dim)
        if part == 0:
            assert new_freq[j] == pytest.approx(old_freq[dim])
        else:
            assert old_freq[dim] > new_freq[j] >= old_freq[dim] * theta ** (-2 / old_dim) * 0.999
        # RoPE's pairs (i, i + half) stay pairs
        partner = order[(j + new_dim // 2) % new_dim]
        assert partner == part * old_dim + (dim + old_dim // 2) % old_dim


def test_merged_heads_compute_the_same_function_when_only_each_groups_first_head_is_used(model):
    config = model.config
    wide = build_grid_lm(GridLMConfig(32, 2, 4, 4, 64, max_positions=256), seed=2)
    with torch.no_grad():
        for p in wide.parameters():
            p.add_(0.05 * torch.randn_like(p))
        dim = wide.config.head_dim
        for layer in wide.model.layers:  # silence heads 1 and 3: each group of two then has one head at work
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                for head in (1, 3):
                    proj.weight[head * dim:(head + 1) * dim] = 0
    wide.eval()
    merged = merge_heads(wide, 2).eval()
    assert merged.config.num_attention_heads == 2 and merged.config.head_dim == 2 * dim
    assert wide.config.num_attention_heads == 4 and config.num_attention_heads == 2  # originals untouched
    ids = torch.randint(0, 13, (2, 40))
    with torch.no_grad():
        assert torch.allclose(wide(input_ids=ids).logits, merged(input_ids=ids).logits, atol=1e-5)
        torch.testing.assert_close(merged.model.layers[0].mlp.up_proj.weight, wide.model.layers[0].mlp.up_proj.weight)


def test_merge_heads_refuses_what_it_cannot_merge(model):
    with pytest.raises(ArcTTTError, match="divisor"):
        merge_heads(model, 2)
    wide = build_grid_lm(GridLMConfig(48, 2, 3, 3, 64, max_positions=256), seed=2)
    with pytest.raises(ArcTTTError, match="divisor"):
        merge_heads(wide, 2)
