"""`arcttt finetune`: every flag is a field of FinetuneConfig (arcttt.train.finetune)."""

from __future__ import annotations

import argparse

from ..train.finetune import FinetuneConfig
from .options import add_config_flags, config_from_args

NEEDS = ("torch", "transformers")


def configure(p: argparse.ArgumentParser) -> None:
    add_config_flags(p, FinetuneConfig)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from ..train.finetune import finetune

    path = finetune(config_from_args(FinetuneConfig, args), progress=not args.quiet)
    print(f"model written to {path}")
    return 0
