"""The course configuration (`course.toml`) and the repository layout.

A course directory holds `course.toml`; one folder per TP (its starter notebook and its
kernel-side package, e.g. `tp1_gradient/tp1/`); `course/`, the library the TPs share; `judges/`,
one judge package per TP (never shipped to students); `solutions/`, the masters.
The configuration is validated when it is read: a mistake is a `CourseError` naming the TP and
the key, in French, never a crash later in `collect` or `export`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # this repository (the grader's own code)
GRADE_SCALE = 20.0  # grades are out of 20, everywhere
LATE_MODES = ("none", "zero", "penalty")


class CourseError(Exception):
    """A mistake in the course's configuration or layout (French message for instructors)."""


@dataclass(frozen=True)
class TP:
    name: str  # folder name, e.g. "tp1_gradient"
    title: str
    weight: float
    deadline: datetime
    keras_backends: tuple[str, ...] = ()  # Keras TPs: backends the course supports
    numpy_only: bool = False  # the kernel cannot import torch/keras/tensorflow at all
    written_points: float = 0.0  # each written answer's points (graded by hand, formgrader)

    @property
    def notebook_name(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def package(self) -> str:
        """The TP's package (kernel side in the TP folder, judge side in `judges/`): tp1…"""
        return self.name.split("_")[0]


@dataclass(frozen=True)
class Limits:
    cell_timeout_s: float
    notebook_timeout_s: float
    memory_bytes: int
    file_size_bytes: int
    max_processes: int


@dataclass(frozen=True)
class LatePolicy:
    mode: str = "none"  # "none": commits after the deadline are ignored; "zero"; "penalty"
    points_per_day: float = 0.0  # "penalty": points (/20) off per started day late


@dataclass(frozen=True)
class Course:
    """A course directory: `course.toml`, one folder per TP, the masters in `solutions/`."""

    root: Path
    name: str
    tps: dict[str, TP]
    limits: Limits
    late_policy: LatePolicy
    similarity_threshold: float = 0.75  # `grader similarite`: pairs at or above are listed
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

    @property
    def library(self) -> Path:
        """The course library the TPs share (`course/`), which kernels may import."""
        return self.root / "course"

    def master(self, tp: TP) -> Path:
        return self.masters_dir / tp.notebook_name

    def master_notebook(self, tp: TP):
        """The master as graded (each written answer worth the TP's `written_points`)."""
        from .notebooks import master_notebook

        return master_notebook(self.master(tp), tp.written_points)

    def folder(self, tp: TP) -> Path:
        """The TP folder: starter notebook and kernel-side package."""
        return self.root / tp.name

    def kernel_package(self, tp: TP) -> Path:
        return self.folder(tp) / tp.package

    def judge_package(self, tp: TP) -> Path:
        return self.root / "judges" / tp.package

    def tp(self, name: str) -> TP:
        name = name.strip("/").split("/")[-1]
        if name not in self.tps:
            known = ", ".join(self.tps)
            raise CourseError(f"TP inconnu : {name!r} (TP du cours : {known})")
        return self.tps[name]


def _get(table: dict, key: str, kind, where: str, default=None):
    if key not in table:
        if default is not None:
            return default
        raise CourseError(f"{where} : clé « {key} » manquante")
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CourseError(f"{where} : « {key} » doit être {_KINDS[kind]} (trouvé {value!r})")
    return value


_KINDS = {float: "un nombre", int: "un entier", str: "un texte", bool: "true ou false",
          datetime: "une date TOML avec fuseau (2026-10-11T23:59:00+02:00)", list: "une liste"}


def load_course(path: Path = ROOT / "course.toml") -> Course:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"fichier de cours introuvable : {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path.name} n'est pas un TOML valide : {exc}") from None
    c = data.get("course")
    if not isinstance(c, dict):
        raise CourseError(f"{path.name} : section [course] manquante")
    limits = Limits(
        cell_timeout_s=_get(c, "cell_timeout_s", float, "[course]"),
        notebook_timeout_s=_get(c, "notebook_timeout_s", float, "[course]"),
        memory_bytes=int(_get(c, "memory_limit_gb", float, "[course]") * 2**30),
        file_size_bytes=int(_get(c, "file_size_limit_mb", float, "[course]") * 2**20),
        max_processes=_get(c, "max_processes", int, "[course]"),
    )
    tps = {}
    for name, t in (data.get("tp") or {}).items():
        where = f"[tp.{name}]"
        deadline = _get(t, "deadline", datetime, where)
        if deadline.tzinfo is None:
            raise CourseError(f"{where} : « deadline » doit avoir un fuseau horaire (+01:00)")
        weight = _get(t, "weight", float, where)
        if weight <= 0:
            raise CourseError(f"{where} : « weight » doit être positif")
        backends = tuple(_get(t, "keras_backends", list, where, []))
        if not set(backends) <= {"tensorflow", "torch", "jax"}:
            raise CourseError(f"{where} : « keras_backends » inconnus : {backends}")
        written = _get(t, "written_points", float, where, 0.0)
        if written < 0:
            raise CourseError(f"{where} : « written_points » (points de chaque réponse écrite) "
                              "doit être positif ou nul")
        tps[name] = TP(name=name, title=_get(t, "title", str, where), weight=weight,
                       deadline=deadline, keras_backends=backends,
                       numpy_only=_get(t, "numpy_only", bool, where, False),
                       written_points=written)
    late = data.get("late_policy", {})
    mode = _get(late, "mode", str, "[late_policy]", "none")
    if mode not in LATE_MODES:
        raise CourseError(f"[late_policy] : mode {mode!r} inconnu (choisir parmi "
                          f"{', '.join(LATE_MODES)})")
    per_day = _get(late, "points_per_day", float, "[late_policy]", 0.0)
    if mode == "penalty" and per_day <= 0:
        raise CourseError("[late_policy] : « points_per_day » > 0 est requis en mode penalty")
    threshold = _get(c, "similarity_threshold", float, "[course]", 0.75)
    if not 0 < threshold <= 1:
        raise CourseError("[course] : « similarity_threshold » doit être entre 0 et 1 (part du "
                          f"code commune à deux copies), trouvé {threshold!r}")
    return Course(root=path.resolve().parent, name=_get(c, "name", str, "[course]"), tps=tps,
                  limits=limits, late_policy=LatePolicy(mode, per_day),
                  similarity_threshold=threshold,
                  masters=_get(c, "masters", str, "[course]", "solutions"))
