"""`arcttt report RUN`: write RUN/report.html, the run as one self-contained page of grids."""

from __future__ import annotations

import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", help="a run directory written by `arcttt solve`")


def run(args) -> int:
    from ..run.report import write_report

    print(f"wrote {write_report(args.run)}")
    return 0
