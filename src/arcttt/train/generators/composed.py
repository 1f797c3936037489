"""Composed families: a rule from another group followed by a geometric step, to multiply variety."""

from __future__ import annotations

from .core import compose
from .geometry import _crop, _flip, _rotate, _scale_up


def _rotate_params(rng, d):
    return {"k": int(rng.integers(1, 4))}


def _flip_params(rng, d):
    return {"axis": str(rng.choice(["h", "v"]))}


def _double(rng, d):
    return {"f": 2}


compose("zoom_largest", "crop to the largest object and scale it up by 2", "crop_largest", _scale_up, _double)
compose("crop_then_rotate", "crop to the content, then rotate it by a fixed angle", "crop_content", _rotate,
        _rotate_params, post_variants={"k": [1, 2, 3]})
compose("colour_map_then_flip", "apply a colour map, then mirror the grid", "colour_map", _flip, _flip_params,
        post_variants={"axis": ["h", "v"]})
compose("denoise_then_crop", "delete isolated noise pixels, then crop to what is left", "remove_noise_pixels", _crop)
compose("gravity_then_flip", "let cells fall to one side, then mirror the grid", "gravity", _flip, _flip_params,
        post_variants={"axis": ["h", "v"]})
