"""`python -m arcttt.generators`: rewrite README.md in this folder from the registry."""

from pathlib import Path

from . import render_readme

path = Path(__file__).with_name("README.md")
path.write_text(render_readme())
print(f"wrote {path}")
