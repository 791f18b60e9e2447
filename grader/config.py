"""The course configuration (`course.toml`) and the repository layout."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # this repository (the grader's own code)
GRADE_SCALE = 20.0


@dataclass(frozen=True)
class TP:
    name: str  # folder name, e.g. "tp1_gradient"
    title: str
    weight: float
    deadline: datetime
    keras_backends: tuple[str, ...] = ()  # Keras TPs: backends the course supports

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def reference_module(self) -> str:
        """The TP's reference module, e.g. tp1_reference (in the TP folder)."""
        return f"{self.name.split('_')[0]}_reference"


@dataclass(frozen=True)
class Limits:
    cell_timeout_s: float
    notebook_timeout_s: float
    memory_bytes: int
    file_size_bytes: int
    max_processes: int


@dataclass(frozen=True)
class Course:
    """A course directory: `course.toml`, one folder per TP, the masters in `solutions/`."""

    root: Path
    name: str
    tps: dict[str, TP]
    limits: Limits
    late_policy: dict
    # Where the masters are: `solutions` for instructors; a student repository carries public
    # masters instead (test cells without hidden tests, no solutions).
    masters: str = "solutions"

    @property
    def masters_dir(self) -> Path:
        return self.root / self.masters

    @property
    def work_dir(self) -> Path:
        """Instructors' working data: collected submissions, gradebook, exports (not in git)."""
        return self.root / "var"

    def master(self, tp: TP) -> Path:
        return self.masters_dir / tp.notebook_name

    def folder(self, tp: TP) -> Path:
        """The TP folder: starter notebook, reference module, tests."""
        return self.root / tp.name

    def tp(self, name: str) -> TP:
        name = name.strip("/").split("/")[-1]
        if name not in self.tps:
            known = ", ".join(self.tps)
            raise KeyError(f"TP inconnu : {name!r} (TP du cours : {known})")
        return self.tps[name]


def load_course(path: Path = ROOT / "course.toml") -> Course:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    c = data["course"]
    limits = Limits(
        cell_timeout_s=float(c["cell_timeout_s"]),
        notebook_timeout_s=float(c["notebook_timeout_s"]),
        memory_bytes=int(float(c["memory_limit_gb"]) * 2**30),
        file_size_bytes=int(float(c["file_size_limit_mb"]) * 2**20),
        max_processes=int(c["max_processes"]),
    )
    tps = {
        name: TP(name=name, title=t["title"], weight=float(t["weight"]), deadline=t["deadline"],
                 keras_backends=tuple(t.get("keras_backends", ())))
        for name, t in data["tp"].items()
    }
    return Course(root=path.resolve().parent, name=c["name"], tps=tps, limits=limits,
                  late_policy=data.get("late_policy", {}), masters=c.get("masters", "solutions"))
