"""A non-editable install works from anywhere: the wheel carries the default model and the subsets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with arcttt installed from a wheel built from this checkout.

    The venv sees this interpreter's site-packages for torch and the other dependencies (nothing is
    downloaded), but arcttt itself comes from the wheel: its own copy comes first on sys.path."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # a clean copy: no build/ or egg-info left over from other builds of the checkout
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp / "dist"), str(source)], check=True, capture_output=True, timeout=300)
    wheel = next((tmp / "dist").glob("arcttt-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(tmp / "venv")], check=True,
                   timeout=120)
    subprocess.run([str(tmp / "venv/bin/python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return tmp, wheel


def test_the_wheel_carries_the_default_model_and_subsets(installed):
    _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    for part in ("model.safetensors", "config.json", "tokenizer.json", "arcttt.json"):
        assert f"arcttt/models/arcttt-h128x6-2heads/{part}" in names
    assert "arcttt/data/subsets/arc1_eval_dev80.csv" in names


def test_solve_from_another_directory_with_the_default_model(installed):
    tmp, _ = installed
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
    where = subprocess.run([str(tmp / "venv/bin/python"), "-c", "import arcttt; print(arcttt.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(tmp / "venv")), where.stdout  # the wheel's copy, not the checkout
    out = tmp / "run"
    r = subprocess.run([str(tmp / "venv/bin/arcttt"), "solve", "--dataset", "arc1/eval", "--tasks", "66e6c45b",
                        "--out", str(out), "--quiet", "--threads", "1"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "tasks: 1/1 finished, 0 failed" in r.stdout
    record = json.loads((out / "results" / "66e6c45b.json").read_text())
    assert record["status"] == "ok" and record["attempts"]
    assert json.loads((out / "config.json").read_text())["model"] == "arcttt-h128x6-2heads"
    assert (out / "report.html").is_file()
