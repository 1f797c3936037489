"""The command line is built from the config dataclasses: one source for every flag's type, default and choices."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import arcttt.cli
from arcttt.cli.main import build_parser, main
from arcttt.cli.options import flags_of
from arcttt.fields import field_docs
from arcttt.method.config import TTT_MODES, InferenceConfig, TTTConfig, TTTDataConfig
from arcttt.run.config import ExecutorConfig, SolveConfig
from arcttt.search.config import SearchConfig
from arcttt.train.finetune import FinetuneConfig


def parse(*argv):
    return build_parser(only=argv[0]).parse_args(list(argv))


def test_no_flags_give_the_dataclass_defaults():
    from arcttt.cli.options import config_from_args

    assert config_from_args(SolveConfig, parse("solve")) == SolveConfig()
    assert config_from_args(FinetuneConfig, parse("finetune")) == FinetuneConfig()


def test_every_flag_reaches_its_field():
    from arcttt.cli.options import config_from_args

    config = config_from_args(SolveConfig, parse(
        "solve", "--dataset", "d", "--tasks", "a,b", "--threads", "3", "--backend", "vllm", "--no-report",
        "--ttt", "lora", "--ttt-steps", "7", "--ttt-lr", "0.5", "--lora-targets", "q_proj,v_proj",
        "--no-leave-one-out", "--ttt-max-tokens", "99", "--infer-transforms", "identity,rot90", "--orders", "3",
        "--sampler", "dfs", "--executor", "processes", "--workers", "4", "--ray-address", "h:1", "--ray-retries", "5"))
    assert (config.dataset, config.tasks, config.threads, config.backend, config.report) == ("d", "a,b", 3, "vllm", False)
    assert config.ttt == TTTConfig(mode="lora", max_steps=7, lr=0.5, target_modules=("q_proj", "v_proj"),
                                   data=TTTDataConfig(leave_one_out=False, max_tokens=99))
    assert config.inference == InferenceConfig(transforms=("identity", "rot90"), orders=3, sampler="dfs")
    assert config.executor == ExecutorConfig("processes", workers=4, ray_address="h:1", ray_retries=5)
    assert config_from_args(SolveConfig, parse("solve", "--no-ttt")).ttt.mode == "none"
    ft = config_from_args(FinetuneConfig, parse("finetune", "--generated-difficulty", "0.2:0.6", "--drop-overlap"))
    assert ft.generated_difficulty == (0.2, 0.6) and ft.drop_overlap


def test_each_field_has_one_flag_and_a_help_text():
    for cls in (SolveConfig, FinetuneConfig):
        flags = flags_of(cls)
        assert len(set(flags.values())) == len(flags)  # no field reached by two flags
    for cls in (SolveConfig, TTTConfig, TTTDataConfig, InferenceConfig, ExecutorConfig, SearchConfig, FinetuneConfig):
        docs = field_docs(cls)
        nested = {f.name for f in dataclasses.fields(cls) if dataclasses.is_dataclass(f.default_factory) or f.name in (
            "extra",)}
        assert {f.name for f in dataclasses.fields(cls)} - nested <= set(docs), cls


def test_choices_come_from_the_library(capsys):
    for mode in TTT_MODES:
        assert parse("solve", "--ttt", mode).__dict__["ttt.mode"] == mode
    with pytest.raises(SystemExit):
        parse("solve", "--ttt", "partial")
    assert "choose from " + ", ".join(repr(m) for m in TTT_MODES) in capsys.readouterr().err


def test_no_default_is_written_in_the_cli_modules():
    """Flags take their defaults from the dataclasses: no add_argument call in arcttt.cli writes one."""
    for path in Path(arcttt.cli.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                keywords = {k.arg: k.value for k in node.keywords}
                if "default" in keywords:
                    assert ast.unparse(keywords["default"]) == "argparse.SUPPRESS", f"{path.name}:{node.lineno}"


BLOCK_ENGINE = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('torch', 'transformers', 'peft'):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
sys.meta_path.insert(0, Block())
import importlib.util
real = importlib.util.find_spec
importlib.util.find_spec = lambda n, *a: None if n.split('.')[0] in ('torch', 'transformers', 'peft') else real(n, *a)
from arcttt.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("argv", [
    ["solve", "--dataset", "arc1/eval", "--tasks", "66e6c45b"],
    ["solve", "--no-such-flag", "1"],
    ["finetune", "--steps", "3", "--out", "x"],
])
def test_a_missing_extra_is_named_whatever_the_flags(argv):
    r = subprocess.run([sys.executable, "-c", BLOCK_ENGINE, *argv], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "needs torch" in r.stderr and "pip install 'arcttt[engine]'" in r.stderr
    assert "unrecognized arguments" not in r.stderr


def test_help_works_without_the_engine():
    r = subprocess.run([sys.executable, "-c", BLOCK_ENGINE, "solve", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "--ttt-lr" in r.stdout and "--workers" in r.stdout


def test_main_reports_usage_errors(capsys):
    with pytest.raises(SystemExit) as e:
        main(["solve", "--orders", "two"])
    assert e.value.code == 2 and "--orders" in capsys.readouterr().err
