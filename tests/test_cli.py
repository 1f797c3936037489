import json
import subprocess
import sys

import pytest

from arcttt.cli import main as cli
from arcttt.method.scoring import build_submission, write_json_atomic

TASK = "0a1d4ef5"  # arc1/eval; also the first id of the dev80 subset


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_datasets_lists_the_four_sets(capsys):
    rc, out, _ = run(capsys, "datasets")
    assert rc == 0
    for name, n in (("arc1/train", 400), ("arc1/eval", 400), ("arc2/train", 1000), ("arc2/eval", 120)):
        line = next(l for l in out.splitlines() if l.startswith(name))
        assert f"{n} tasks" in line
    assert "dev80" in out


def test_show_with_and_without_colour(capsys, arc1_eval):
    task = next(t for t in arc1_eval if t.id == TASK)
    first_row = "".join(str(int(v)) for v in task.train[0].input[0])
    test_row = "".join(str(int(v)) for v in task.test[0].output[0])

    rc, out, _ = run(capsys, "show", f"arc1/eval:{TASK}", "--no-colour")
    assert rc == 0
    assert TASK in out and "\x1b[" not in out
    assert f"{len(task.train)} train" in out
    assert any(l.startswith(first_row) for l in out.splitlines())
    assert test_row in out

    rc, out, _ = run(capsys, "show", f"arc1/eval:{TASK}")
    assert rc == 0 and TASK in out and "\x1b[48;5;" in out

    rc, out, _ = run(capsys, "show", f"arc1/eval:{TASK}", "--no-colour", "--hide-answer")
    assert rc == 0
    test_part = out.split("test 0:")[1]
    assert "output" not in test_part.splitlines()[0] and "?" in test_part


def test_show_a_task_file(capsys, tmp_path):
    path = tmp_path / "mytask.json"
    path.write_text(json.dumps({"train": [{"input": [[1, 2]], "output": [[3]]}], "test": [{"input": [[4]]}]}))
    rc, out, _ = run(capsys, "show", str(path), "--no-colour")
    assert rc == 0 and "mytask" in out and "12" in out and "?" in out


def test_score_json(capsys, tmp_path, arc1_eval):
    chosen = [t for t in arc1_eval[:5]]
    sub = build_submission(chosen, {t.id: [[p.output] for p in t.test] for t in chosen})
    wrong = chosen[0]
    sub[wrong.id] = [{"attempt_1": [[0]], "attempt_2": [[0]]} for _ in wrong.test]
    path = tmp_path / "submission.json"
    write_json_atomic(path, sub)
    ids = ",".join(t.id for t in chosen)
    rc, out, _ = run(capsys, "score", str(path), "--dataset", "arc1/eval", "--tasks", ids, "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["tasks_total"] == 5 and d["tasks_correct"] == 4
    assert d["task_accuracy"] == pytest.approx(0.8)
    assert wrong.id not in d["solved"]
    rc, out, _ = run(capsys, "score", str(path), "--dataset", "arc1/eval", "--tasks", ids)
    assert rc == 0 and "4/5" in out


@pytest.mark.parametrize("argv", [
    ["show", "arc9/eval:abc"],
    ["show", "arc1/eval:nope"],
    ["score", "x.json", "--dataset", "no/such/dataset"],
])
def test_errors_exit_nonzero_without_traceback(capsys, argv):
    rc, out, err = run(capsys, *argv)
    assert rc != 0
    assert err.startswith("error:")
    assert "Traceback" not in err + out


def test_score_unreadable_submission(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    rc, _, err = run(capsys, "score", str(bad), "--dataset", "arc1/eval", "--tasks", TASK)
    assert rc == 1 and err.startswith("error:") and "cannot read submission" in err


def test_subcommands_are_one_dict():
    assert {"datasets", "show", "check", "score"} <= set(cli.COMMANDS)
    parser = cli.build_parser(only="show")
    args = parser.parse_args(["show", "arc1/eval:x", "--no-colour"])
    assert args.command == "show" and args.no_colour


def test_library_below_the_codec_imports_no_torch():
    code = ("import arcttt.data.tasks, arcttt.data.datasets, arcttt.data.transforms, arcttt.data.codec, "
            "arcttt.method.ttt_data, "
            "arcttt.method.voting, arcttt.method.scoring, arcttt.cli, sys; assert 'torch' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_data_commands_import_no_torch():
    code = ("import sys; from arcttt.cli.main import main; "
            f"rc = main(['show', 'arc1/eval:{TASK}', '--no-colour']); "
            "assert rc == 0; assert 'torch' not in sys.modules, 'show imported torch'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert TASK in r.stdout


def test_check_reports_bad_paths_and_goes_on(capsys, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}))
    broken = tmp_path / "x_challenges.json"
    broken.write_text("[1, 2]")
    rc, out, err = run(capsys, "check", "/no/such/folder", str(broken), str(good))
    assert rc == 1 and "Traceback" not in out + err
    assert "BAD" in out and "/no/such/folder" in out and "x_challenges.json" in out
    assert "1 valid task(s), 2 problem(s)" in out
