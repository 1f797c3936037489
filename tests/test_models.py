"""models: the grid-LM family, save/load round trip, the grid tokenizer's vocabulary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from arcttt.data.codec import GRID_VOCAB, SYMBOLS, Vocab, encode_task
from arcttt.errors import ArcTTTError
from arcttt.method.models import (
    PRESETS,
    build_grid_lm,
    grid_tokenizer,
    load_model,
    parameter_count,
    pick_dtype,
    save_model,
)
from conftest import colour_map_task, tiny_config, tiny_lm


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=torch.as_tensor(ids)[None]).logits[0]


def test_build_from_config_has_the_asked_shape():
    model = tiny_lm(hidden=32, layers=2)
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size) == (32, 2, len(SYMBOLS))
    assert not cfg.tie_word_embeddings  # LoRA can target lm_head on its own
    assert model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr()
    assert parameter_count(model) < 50_000


def test_build_is_deterministic_in_seed():
    a, b, c = tiny_lm(seed=1), tiny_lm(seed=1), tiny_lm(seed=2)
    for (n, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        assert torch.equal(pa, pb), n
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_unknown_preset_is_an_arcttt_error():
    with pytest.raises(ArcTTTError, match="unknown model size"):
        build_grid_lm("gigantic")
    assert {"nano", "tiny", "small"} <= set(PRESETS)


def test_grid_tokenizer_maps_symbols_to_their_indices():
    tok = grid_tokenizer()
    assert Vocab.from_tokenizer(tok) == GRID_VOCAB
    assert tok.encode("12\n", add_special_tokens=False) == [1, 2, 10]


def test_save_load_gives_identical_logits(tmp_path):
    model = tiny_lm(seed=3)
    save_model(model, tmp_path / "m", extra={"note": "test"})
    assert (tmp_path / "m" / "config.json").exists() and (tmp_path / "m" / "arcttt.json").exists()
    lm = load_model(tmp_path / "m", device="cpu")
    assert lm.vocab == GRID_VOCAB
    assert lm.dtype == torch.float32 and lm.device.type == "cpu"
    assert not lm.model.training
    ids = encode_task(colour_map_task(0, side=3)).ids
    assert torch.equal(_logits(model, ids), _logits(lm.model, ids))
    d = lm.describe()
    assert d["parameters"] == parameter_count(model) and d["vocab"] == list(range(16))


def test_load_missing_or_broken_folder_is_an_arcttt_error(tmp_path):
    with pytest.raises(ArcTTTError, match="does not exist"):
        load_model(tmp_path / "nope")
    (tmp_path / "broken").mkdir()
    with pytest.raises(ArcTTTError, match="cannot load model"):
        load_model(tmp_path / "broken", device="cpu")


def test_dtype_choice():
    assert pick_dtype(torch.device("cpu")) == torch.float32
    assert pick_dtype(torch.device("cuda")) == torch.bfloat16
    assert pick_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    with pytest.raises(ArcTTTError, match="unknown dtype"):
        pick_dtype(torch.device("cpu"), "int3")


def test_load_with_dtype(tmp_path):
    save_model(tiny_lm(), tmp_path / "m")
    lm = load_model(tmp_path / "m", device="cpu", dtype="bf16")
    assert next(lm.model.parameters()).dtype == torch.bfloat16
    np.testing.assert_equal(tiny_config().hidden_size, lm.model.config.hidden_size)
