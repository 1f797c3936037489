"""A KV cache for decoding that grows in place and can be cut back (drafts, depth-first search).

transformers' DynamicLayer concatenates the whole cache at every step (O(T^2) copying);
the layer here keeps spare capacity and writes new positions in place. Cropping only moves
the end, so rejected draft tokens and abandoned search branches cost nothing to drop.
"""

from __future__ import annotations


def _cache_keyword() -> str:
    """transformers renamed `past_key_values` to `cache`; use whichever this version takes."""
    import inspect

    from transformers import LlamaForCausalLM

    return "cache" if "cache" in inspect.signature(LlamaForCausalLM.forward).parameters else "past_key_values"


CACHE_KW = _cache_keyword()


def _growing_layer_class():
    """A KV-cache layer with spare capacity: appending a token writes in place instead of
    concatenating (DynamicLayer's torch.cat copies the whole cache at every step, O(T^2))."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        def lazy_initialization(self, key_states, value_states) -> None:
            self.device = key_states.device
            self._k = self._v = None
            self._n = 0
            self.keys = key_states[..., :0, :]
            self.values = value_states[..., :0, :]
            self.is_initialized = True

        def _views(self) -> None:
            self.keys = self._k[:, :, : self._n]
            self.values = self._v[:, :, : self._n]

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            m = key_states.shape[-2]
            need = self._n + m
            if self._k is None or need > self._k.shape[-2] or self._k.shape[0] != key_states.shape[0]:
                cap = need + max(64, need // 2)
                k = key_states.new_empty((*key_states.shape[:2], cap, key_states.shape[-1]))
                v = value_states.new_empty((*value_states.shape[:2], cap, value_states.shape[-1]))
                if self._k is not None and self._n:
                    k[:, :, : self._n] = self._k[:, :, : self._n]
                    v[:, :, : self._n] = self._v[:, :, : self._n]
                self._k, self._v = k, v
            self._k[:, :, self._n: need] = key_states
            self._v[:, :, self._n: need] = value_states
            self._n = need
            self._views()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self._n if self.is_initialized else 0

        def crop(self, tokens_to_remove: int) -> None:
            if tokens_to_remove > 0:
                raise ValueError("crop takes a negative number of tokens to remove")
            if tokens_to_remove == 0 or not self.is_initialized or self._k is None:
                return
            self._n = max(0, self._n - abs(tokens_to_remove))
            self._views()

        def batch_select_indices(self, indices) -> None:
            if self._k is None:
                return
            n = self._n
            k = self._k.new_empty((len(indices), *self._k.shape[1:]))
            v = self._v.new_empty((len(indices), *self._v.shape[1:]))
            k[:, :, :n] = self._k[indices, :, :n]
            v[:, :, :n] = self._v[indices, :, :n]
            self._k, self._v = k, v
            self._views()

        def reset(self) -> None:
            self._k = self._v = None
            self._n = 0
            self.keys = self.values = None
            self.is_initialized = False

    return GrowingLayer


_GROWING_LAYER = None


def new_cache(model):
    """A KV cache for `model` that grows in place, or None (the model then makes its own).

    Only for Hugging Face models whose layers all use full attention (Llama, Qwen2 without
    sliding windows, ...); anything else keeps the model's default cache.
    """
    global _GROWING_LAYER
    cfg = getattr(model, "config", None)
    if cfg is None or not hasattr(cfg, "num_hidden_layers"):
        return None
    if hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config(decoder=True)
    types = getattr(cfg, "layer_types", None)
    if types and any(t != "full_attention" for t in types):
        return None
    if getattr(cfg, "sliding_window", None) and getattr(cfg, "use_sliding_window", True):
        return None
    try:
        from transformers import DynamicCache

        if _GROWING_LAYER is None:
            _GROWING_LAYER = _growing_layer_class()
        cache = DynamicCache()
        if not hasattr(cache, "layer_class_to_replicate") or not hasattr(cache, "layers"):
            return None
        cache.layers = []
        cache.layer_class_to_replicate = _GROWING_LAYER
        return cache
    except Exception:  # an older/newer transformers without layer classes: use the default cache
        return None


def crop_cache(cache, length: int) -> None:
    """Keep the first `length` positions (a negative crop removes tokens in every transformers version)."""
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)
