"""The README is a user guide that stays true: short, no commit hashes, and every command it shows runs.

Commands run here with flags that make them cheap (one task, a few TTT steps, a tiny fine-tuning);
the two quick-start scripts are run by .ci/run (the quick start with --max-tasks 1)."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from arcttt.cli.main import build_parser, main
from arcttt.data.datasets import load

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()

CHEAP = {  # appended to each command (argparse keeps the last value of a flag)
    "solve": ["--max-tasks", "1", "--ttt-steps", "2", "--threads", "1", "--quiet", "--orders", "1",
              "--infer-transforms", "identity,rot90", "--search-seconds", "2"],
    "generate": ["--per-family", "1", "--quiet"],
    "finetune": ["--steps", "1", "--generated-per-family", "1", "--quiet"],
    "bench/accuracy.py": ["--max-tasks", "1", "--ttt-epochs", "0.02", "--workers", "1", "--only", "TTT + voting"],
    "bench/speed.py": ["--task-ids", "66e6c45b", "--seeds", "1", "--ttt-steps", "2"],
}


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def commands() -> list[str]:
    """Every command the README shows: lines of its bash blocks and inline code that starts a command."""
    lines = [line.split("  #")[0].strip() for block in code_blocks("bash") for line in block.splitlines()]
    inline = [c for c in re.findall(r"`((?:arcttt|python bench/\S+) [^`]*)`", README) if len(c.split()) > 2]
    return [c for c in lines if c] + inline


def test_readme_is_a_short_guide_without_commit_hashes():
    assert len(README.splitlines()) <= 200
    task_ids = {t.id for name in ("arc1/train", "arc1/eval", "arc2/train", "arc2/eval") for t in load(name).tasks}
    hexes = set(re.findall(r"\b[0-9a-f]{7,40}\b", README))
    assert hexes <= task_ids, f"commit hashes in the README: {sorted(hexes - task_ids)}"


def test_quick_start_is_two_commands_and_ci_runs_both():
    quick = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in quick.strip().splitlines()] == [
        "bash scripts/quickstart.sh", "bash scripts/test.sh"]
    assert "bash scripts/test.sh" in CI and "bash scripts/quickstart.sh --max-tasks 1" in CI


def test_solve_flags_in_the_readme_exist():
    solve = build_parser(only="solve")._subparsers._group_actions[0].choices["solve"]
    known = {s for a in solve._actions for s in a.option_strings}
    table = README.split("### `arcttt solve` flags that matter", 1)[1].split("##", 1)[0]
    mentioned = set(re.findall(r"(--[a-z][a-z0-9-]*)", table))
    assert mentioned and mentioned <= known, sorted(mentioned - known)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A directory to run the README's commands in, with a small `my_tasks` folder; bench results go here."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_tasks").mkdir()
    for i in range(2):
        task = {"train": [{"input": [[i, 1]], "output": [[1, i]]}, {"input": [[2, i]], "output": [[i, 2]]}],
                "test": [{"input": [[3, i]], "output": [[i, 3]]}]}
        (tmp_path / "my_tasks" / f"t{i}.json").write_text(json.dumps(task))
    sys.path.insert(0, str(ROOT / "bench"))
    import accuracy
    import speed

    for module in (accuracy, speed):
        monkeypatch.setattr(module, "RESULTS", tmp_path / "bench-results")
    (tmp_path / "bench-results").mkdir()
    return tmp_path


def run_command(command: str) -> int:
    argv = shlex.split(command)
    if argv[0] == "arcttt":
        return main(argv[1:] + CHEAP.get(argv[1], []))
    if argv[0] == "python" and argv[1] in CHEAP:
        module = __import__(Path(argv[1]).stem)
        return module.main(argv[2:] + CHEAP[argv[1]])
    raise AssertionError(f"the README shows a command no test runs: {command}")


def test_every_readme_command_runs(workdir, capsys):
    shown = commands()
    scripts = [c for c in shown if c.startswith("bash scripts/")]
    assert set(scripts) == {"bash scripts/quickstart.sh", "bash scripts/test.sh"}  # run by .ci/run
    others = [c for c in shown if c not in scripts]
    assert any(c.startswith("arcttt solve") for c in others) and any(c.startswith("python bench/") for c in others)
    for command in others:
        assert run_command(command) == 0, command
    out = capsys.readouterr().out
    assert (workdir / "runs" / "dev80" / "report.html").is_file() and (workdir / "runs" / "mine" / "summary.json").is_file()
    assert json.loads((workdir / "runs" / "mine-ensemble" / "config.json").read_text())["solver"] == "ensemble"
    assert "gravity(x, dir='down')" in out  # arcttt search's program for 1e0a9b12
    assert "2 valid task(s), 0 problem(s)" in out
    assert (workdir / "models" / "my-model" / "model.safetensors").is_file()
    assert sorted(p.name for p in (workdir / "bench-results").iterdir()) == [
        "accuracy.json", "accuracy.md", "speed.json", "speed.md"]


def test_the_python_example_runs(workdir):
    (block,) = code_blocks("python")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["summary"]["finished"] == 1
    assert (workdir / "runs" / "api" / "report.html").is_file()
