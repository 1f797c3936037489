"""Models: the grid-LM family (small Llama models over the codec's 16 symbols) and any local HF causal LM.

A grid LM is an ordinary Hugging Face model folder (config.json, safetensors,
tokenizer.json), so transformers, peft and vLLM read it without arcttt.
Other causal LMs (Llama-3.2-1B, Qwen, SmolLM2 via GGUF) go through the codec's
Vocab.from_tokenizer, one token per grid symbol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..data.codec import BOS, END, GRID_VOCAB, PAD, SYMBOLS, Vocab
from ..errors import ArcTTTError
from ..models import resolve_model
from .config import PRESETS, GridLMConfig


def llama_config(cfg: GridLMConfig):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(SYMBOLS),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_positions,
        rope_theta=cfg.rope_theta,
        tie_word_embeddings=False,
        bos_token_id=GRID_VOCAB.id(BOS),
        eos_token_id=GRID_VOCAB.id(END),
        pad_token_id=GRID_VOCAB.id(PAD),
        attn_implementation="sdpa",
    )


def build_grid_lm(size: str | GridLMConfig = "tiny", seed: int = 0):
    """A randomly initialised grid LM of a preset size (or an explicit config)."""
    from transformers import LlamaForCausalLM

    if isinstance(size, str) and size not in PRESETS:
        raise ArcTTTError(f"unknown model size '{size}'; presets: {', '.join(PRESETS)}")
    cfg = PRESETS[size] if isinstance(size, str) else size
    torch.manual_seed(seed)
    model = LlamaForCausalLM(llama_config(cfg))
    model.generation_config.pad_token_id = GRID_VOCAB.id(PAD)
    return model


def grid_tokenizer():
    """A HF tokenizer whose ids are exactly the codec's symbol indices (one character = one token)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({s: i for i, s in enumerate(SYMBOLS)}, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")


def parameter_count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def pick_device(device: str | None = None) -> torch.device:
    if device and device != "auto":
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_dtype(device: torch.device, dtype: str | None = None) -> torch.dtype:
    """bf16 on CUDA, fp32 on CPU, unless told otherwise."""
    if dtype and dtype != "auto":
        try:
            return {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
                    "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}[dtype]
        except KeyError:
            raise ArcTTTError(f"unknown dtype '{dtype}'; use fp32, bf16 or fp16") from None
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def native_bf16(device) -> bool:
    """Whether bf16 matmuls run natively here: a CUDA GPU with bf16, or a CPU with AVX512-BF16 or AMX
    (elsewhere bf16 on the CPU is emulated and slower than fp32)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def set_threads(threads: int | None) -> None:
    """Torch CPU threads; None keeps torch's default. On a busy machine fewer threads can be much faster."""
    if threads is not None:
        if threads < 1:
            raise ArcTTTError(f"threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)


def save_model(model, path: str | Path, extra: dict | None = None) -> None:
    """Save as a Hugging Face folder with the grid tokenizer (and arcttt.json metadata)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    if model.config.vocab_size == len(SYMBOLS):
        grid_tokenizer().save_pretrained(path)
    if extra is not None:
        (path / "arcttt.json").write_text(json.dumps(extra, indent=1, default=str))


@dataclass
class LoadedModel:
    model: object
    vocab: Vocab
    path: str
    device: torch.device
    dtype: torch.dtype

    def describe(self) -> dict:
        return {"path": self.path, "device": str(self.device), "dtype": str(self.dtype).replace("torch.", ""),
                "parameters": parameter_count(self.model), "vocab": list(self.vocab.ids)}


def load_model(path: str | Path, device: str | None = None, dtype: str | None = None,
               gguf_file: str | None = None) -> LoadedModel:
    """Load a grid LM folder, a shipped model by name, or any local HF causal LM folder (optionally from
    a GGUF file in it)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a bar per weight file would interleave with arcttt's own task bar
    path = resolve_model(path)
    dev = pick_device(device)
    dt = pick_dtype(dev, dtype)
    kwargs = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dt, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as e:
        raise ArcTTTError(f"cannot load model from '{path}': {e}") from None
    vocab = Vocab.from_tokenizer(tokenizer)
    model.to(dev)
    model.eval()
    return LoadedModel(model, vocab, str(path), dev, dt)


__all__ = ["GridLMConfig", "PRESETS", "build_grid_lm", "grid_tokenizer", "save_model", "load_model",
           "LoadedModel", "pick_device", "pick_dtype", "parameter_count", "GRID_VOCAB"]
