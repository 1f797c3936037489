"""Synthetic task generators: every family makes valid, rule-consistent, deterministic, diverse tasks;
the `arcttt generate` command writes loadable task files, lists families and draws a gallery."""

from __future__ import annotations

import argparse
import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from arcttt.cli import generate as generate_cli
from arcttt.data.datasets import load_folder
from arcttt.data.tasks import grid_key, validate_grid
from arcttt.errors import ArcTTTError
from arcttt.train.generators import (
    FAMILIES,
    Family,
    Reject,
    families_table,
    generate_many,
    generate_task,
    get_family,
    list_families,
    render_readme,
)

NAMES = [f.name for f in list_families()]
SEEDS = range(50)
LEVELS = {"low": (0.0, 0.1), "high": (0.9, 1.0)}


def difficulty(level: str, seed: int) -> float:
    lo, hi = LEVELS[level]
    return round(lo + (hi - lo) * seed / (len(SEEDS) - 1), 3)


@cache
def tasks_of(name: str, level: str) -> tuple:
    return tuple(generate_task(name, s, difficulty(level, s)) for s in SEEDS)


def _explains(fam, pairs, params) -> bool:
    try:
        return all(np.array_equal(fam.rule(p.input, params), p.output) for p in pairs)
    except Reject:
        return False


def task_key(task) -> tuple:
    return tuple(grid_key(g) for g in task.all_grids())


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    generate_cli.configure(parser)
    return generate_cli.run(parser.parse_args(list(argv)))


# ---------------------------------------------------------------- registry


def test_registry_size_and_split():
    train, held = list_families("train"), list_families("held-out")
    assert len(NAMES) >= 80
    assert len(held) >= 10
    assert len(train) + len(held) == len(NAMES) == len(set(NAMES))
    for f in list_families():
        assert isinstance(f, Family)
        assert re.fullmatch(r"[a-z0-9_]+", f.name), f.name
        assert f.description and "\n" not in f.description
        assert f.group and f.group != "core"
    assert get_family("flip").name == "flip"
    with pytest.raises(ArcTTTError, match="unknown generator family"):
        get_family("no_such_family")
    with pytest.raises(ArcTTTError, match="unknown split"):
        list_families("test")


def test_family_groups_cover_core_priors():
    groups = {f.group for f in list_families()}
    assert {"geometry", "colour", "objects", "lines", "regions", "grids", "counting", "patterns", "sequences1d",
            "composed"} <= groups


def test_readme_table_matches_registry():
    readme = (Path(__file__).parents[1] / "src/arcttt/train/generators/README.md").read_text()
    assert readme == render_readme(), "README.md is stale: run `python -m arcttt.train.generators`"
    assert families_table() in readme
    for name in NAMES:
        assert f"`{name}`" in readme


# ---------------------------------------------------------------- every family


@pytest.mark.parametrize("level", list(LEVELS))
@pytest.mark.parametrize("name", NAMES)
def test_family_tasks_valid_and_rule_consistent(name, level):
    fam = FAMILIES[name]
    for seed, task in zip(SEEDS, tasks_of(name, level)):
        where = f"{name} seed {seed} {level}"
        assert task.id == f"gen-{name}-{difficulty(level, seed):.2f}-{seed}"
        assert 3 <= len(task.train) <= 5 and len(task.test) == 1, where
        assert task.meta["family"] == name and task.meta["seed"] == seed
        assert task.meta["split"] == fam.split
        params = json.loads(json.dumps(task.meta["params"]))  # what a file round trip would give
        inputs = set()
        for pair in task.train + task.test:
            for g in (pair.input, pair.output):
                assert g.dtype == np.uint8 and g.ndim == 2, where
                assert np.array_equal(validate_grid(g, where), g), where
            assert not (pair.input.shape == pair.output.shape and np.array_equal(pair.input, pair.output)), \
                f"{where}: output equals input"
            assert np.array_equal(fam.rule(pair.input.copy(), params), pair.output), f"{where}: rule mismatch"
            inputs.add(grid_key(pair.input))
        assert len(inputs) == len(task.train) + len(task.test), f"{where}: repeated input grids"
        for key, values in (fam.variants or {}).items():  # the demos rule out every other parameter value
            for v in values:
                alt = dict(params, **{key: v})
                if v != params[key] and _explains(fam, task.train, alt):
                    assert _explains(fam, task.test, alt), f"{where}: {key}={v} also fits the demos"


@pytest.mark.parametrize("name", NAMES)
def test_family_deterministic_and_diverse(name):
    for level in LEVELS:
        tasks = tasks_of(name, level)
        keys = {task_key(t) for t in tasks}
        assert len(keys) >= 0.8 * len(tasks), f"{name} {level}: only {len(keys)} distinct tasks of {len(tasks)}"
        for seed in (0, 17):
            again = generate_task(name, seed, difficulty(level, seed))
            assert task_key(again) == task_key(tasks[seed])
            assert again.meta == tasks[seed].meta


def test_difficulty_scales_grid_size():
    def mean_cells(level):
        return np.mean([g.size for n in NAMES for t in tasks_of(n, level)[:10] for g in t.all_grids()])
    assert mean_cells("high") > 1.5 * mean_cells("low")


def test_colour_map_demos_show_every_mapped_colour():
    for task in tasks_of("colour_map", "high"):
        seen = {int(c) for p in task.train for c in np.unique(p.input)}
        assert {int(c) for c in task.meta["params"]["map"]} <= seen
        assert {int(c) for c in np.unique(task.test[0].input)} <= seen


def test_size_recolouring_test_sizes_seen_in_demos():
    from arcttt.train.generators.core import objects
    for task in tasks_of("recolour_by_size", "high"):
        sizes = {o.size for p in task.train for o in objects(p.input, by_colour=False)}
        assert {o.size for o in objects(task.test[0].input, by_colour=False)} <= sizes


# ---------------------------------------------------------------- generate_task / generate_many


def test_generate_task_arguments():
    t = generate_task("rotate", 5, 0.5, n_train=2, n_test=2)
    assert len(t.train) == 2 and len(t.test) == 2
    assert re.fullmatch(r"[A-Za-z0-9._-]+", t.id)
    for bad in ({"seed": -1}, {"seed": 1.5}, {"difficulty": 1.5}, {"difficulty": -0.1}, {"n_train": 0}, {"n_test": 0}):
        kw = {"seed": 0, "difficulty": 0.5} | bad
        with pytest.raises(ArcTTTError):
            generate_task("rotate", **kw)
    with pytest.raises(ArcTTTError, match="unknown generator family"):
        generate_task("nope", 0, 0.5)


def _temporary(fam):
    FAMILIES[fam.name] = fam
    return fam


def test_unsatisfiable_family_raises_clear_error():
    def rule(g, p):
        raise Reject("never")
    fam = _temporary(Family("always_rejects", "x", "train", lambda r, d: {},
                            lambda r, p, d: np.zeros((2, 2), np.uint8), rule))
    undetermined = _temporary(Family("never_determined", "x", "train", lambda r, d: {},
                                     lambda r, p, d: r.integers(0, 9, (3, 3)).astype(np.uint8),
                                     lambda g, p: g[::-1, ::-1], check=lambda tr, te, p: False))
    try:
        with pytest.raises(ArcTTTError, match="always_rejects.*could not make a valid task.*never"):
            generate_task(fam.name, 0, 0.5, max_tries=3)
        with pytest.raises(ArcTTTError, match="do not determine the rule"):
            generate_task(undetermined.name, 0, 0.5, max_tries=3)
    finally:
        del FAMILIES[fam.name], FAMILIES[undetermined.name]


def test_identity_outputs_are_resampled():
    calls = []

    def sample(rng, p, d):
        calls.append(1)
        return rng.integers(0, 2, (2, 2)).astype(np.uint8)  # often symmetric: flip gives the same grid
    fam = _temporary(Family("flip_tiny", "x", "train", lambda r, d: {}, sample, lambda g, p: g[:, ::-1].copy()))
    try:
        t = generate_task(fam.name, 3, 0.5)
        assert all(not np.array_equal(p.input, p.output) for p in t.train + t.test)
        assert len(calls) > len(t.train) + len(t.test)  # some draws were thrown away
    finally:
        del FAMILIES[fam.name]


def test_ambiguous_demonstrations_are_detected():
    from arcttt.data.tasks import Pair
    from arcttt.train.generators.core import _pinned_down
    fam = FAMILIES["flip"]
    sym = np.array([[1, 2], [2, 1]], np.uint8)  # left-right and top-bottom flips agree on it
    odd = np.array([[1, 2], [3, 4]], np.uint8)
    params = {"axis": "h"}
    train = [Pair(sym, fam.rule(sym, params))]
    assert not _pinned_down(fam, train, [Pair(odd, fam.rule(odd, params))], params)
    train.append(Pair(odd, fam.rule(odd, params)))
    assert _pinned_down(fam, train, [Pair(odd.T.copy(), fam.rule(odd.T.copy(), params))], params)


def test_generate_many_in_processes_gives_the_same_tasks_in_the_same_order():
    serial = list(generate_many("train", per_family=2, difficulty=(0.0, 1.0), seed=5))
    parallel = list(generate_many("train", per_family=2, difficulty=(0.0, 1.0), seed=5, workers=2))
    assert [t.id for t in parallel] == [t.id for t in serial]
    assert [(t.to_json(), t.meta) for t in parallel] == [(t.to_json(), t.meta) for t in serial]


def test_generate_many():
    tasks = list(generate_many("held-out", per_family=3, difficulty=(0.2, 0.4), seed=10))
    held = list_families("held-out")
    assert len(tasks) == 3 * len(held)
    assert len({t.id for t in tasks}) == len(tasks)
    assert {t.meta["family"] for t in tasks} == {f.name for f in held}
    assert {t.meta["difficulty"] for t in tasks} == {0.2, 0.3, 0.4}
    assert {t.meta["seed"] for t in tasks} == {10, 11, 12}
    with pytest.raises(ArcTTTError):
        list(generate_many("flip", per_family=1, difficulty=(0.8, 0.2)))
    with pytest.raises(ArcTTTError, match="unknown generator families: bogus"):
        list(generate_many("flip,bogus"))


# ---------------------------------------------------------------- CLI


def test_cli_writes_1000_loadable_tasks(tmp_path):
    out = tmp_path / "gen"
    per = -(-1000 // len(NAMES))
    assert cli("--families", "all", "--per-family", str(per), "--difficulty", "0:1", "--seed", "7",
               "--out", str(out), "--quiet") == 0
    files = sorted(out.glob("*.json"))
    assert len(files) == per * len(NAMES) >= 1000
    res = load_folder(out)
    assert res.errors == []
    assert len(res.tasks) == len(files)
    assert {t.id for t in res.tasks} == {f.stem for f in files}
    one = generate_task("rotate", 7, 0.0)
    loaded = {t.id: t for t in res.tasks}[one.id]
    assert task_key(loaded) == task_key(one)


def test_cli_split_selection(tmp_path):
    assert cli("--families", "held-out", "--per-family", "1", "--out", str(tmp_path), "--quiet") == 0
    stems = {f.stem for f in tmp_path.glob("*.json")}
    assert len(stems) == len(list_families("held-out"))
    assert all(any(s.startswith(f"gen-{f.name}-") for s in stems) for f in list_families("held-out"))


def test_cli_list(capsys):
    assert cli("--list") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(NAMES)
    for line, fam in zip(lines, list_families()):
        name, split, desc = line.split(None, 2)
        assert (name, split, desc) == (fam.name, fam.split, fam.description)


def test_cli_gallery(tmp_path, capsys):
    path = tmp_path / "g.html"
    assert cli("--gallery", str(path)) == 0
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<style>" in page and "http" not in page.lower().replace("http-equiv", "")
    for colour in ("#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00", "#AAAAAA", "#F012BE", "#FF851B",
                   "#7FDBFF", "#870C25"):
        assert colour in page
    for name in NAMES:
        assert f'id="{name}"' in page
    assert page.count('class="fam"') == len(NAMES)
    assert "gallery of" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--out", "X", "--difficulty", "0.9:0.1"], "difficulty"),
    (["--out", "X", "--families", "flip,unknown_thing"], "unknown_thing"),
    (["--out", "X", "--per-family", "0"], "per-family"),
    (["--out", "X", "--seed", "-3"], "seed"),
    ([], "--out"),
])
def test_cli_bad_arguments(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ArcTTTError, match=re.escape(message)):
        cli(*argv)
    assert not (tmp_path / "X").exists() or not any((tmp_path / "X").iterdir())


def test_cli_unparseable_difficulty_is_a_usage_error(capsys):
    from arcttt.cli.main import main

    assert main_exit(main, ["generate", "--out", "X", "--difficulty", "easy"]) == 2
    assert "--difficulty takes LO:HI or one number, got 'easy'" in capsys.readouterr().err


def main_exit(main, argv) -> int:
    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code
