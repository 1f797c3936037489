"""The models that ship inside the package, found by name from any directory.

`arcttt solve` without `--model` uses DEFAULT_MODEL. A `--model` value is a model folder
(a grid LM or any local Hugging Face causal LM) or the name of a shipped model.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import ArcTTTError

DEFAULT_MODEL = "arcttt-h128x6-2heads"
"""The default grid LM: its lineage and numbers are in docs/models.md and docs/results.md."""


def shipped_models() -> dict[str, Path]:
    """Name -> folder of every model shipped in this package."""
    root = Path(str(resources.files(__name__)))
    return {p.name: p for p in sorted(root.iterdir()) if (p / "config.json").is_file()}


def resolve_model(spec: str | Path) -> Path:
    """The folder of a model given as a path or as a shipped model's name (a path wins)."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    shipped = shipped_models()
    if str(spec) in shipped:
        return shipped[str(spec)]
    raise ArcTTTError(f"model '{spec}' does not exist: it is neither a folder nor a shipped model "
                      f"({', '.join(shipped) or 'none installed'})")
