"""nbgrader's gradebook: the master's cells, the restored submission, scores, feedback.

Each grading uses a gradebook (a throwaway SQLite file by default): the master's cells are
saved in it (`SaveCells`), test cells of the submission are restored from it (`OverwriteCells`,
deleted ones re-added), the judge's scores are recorded in it as nbgrader auto-scores (manual
scores are never touched), and the feedback HTML is produced from it (`GetGrades`, with
`ClearHiddenTests` so hidden tests never reach a student).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import stat
import tempfile
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import nbformat
from nbconvert.exporters import HTMLExporter
import nbgrader.api
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import (ClearHiddenTests, ClearOutput, DeduplicateIds, GetGrades,
                                    OverwriteCells, OverwriteKernelspec, SaveCells)
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from traitlets.config import Config

from .config import GRADE_SCALE
from .notebooks import Unusable, assignment_source, grade_id, is_graded, is_test, is_written

TEMPLATES = Path(__file__).parent / "templates"
VALID_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5 cell ids


@lru_cache(maxsize=1)
def _alembic_head() -> str:
    """nbgrader asks the `alembic` command (a subprocess, found on PATH or not) for the schema
    version of every new gradebook; it is a constant of the installed nbgrader."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    return ScriptDirectory.from_config(cfg).get_current_head()


nbgrader.api.get_alembic_version = _alembic_head
THROWAWAY_PREFIX = "grader-"  # tempfile prefix of a grading's private gradebook (grading.py)


@event.listens_for(Engine, "connect")
def _throwaway_without_fsync(dbapi_connection, _record) -> None:
    """A grading's private gradebook lives a few seconds: no fsync per commit (nbgrader
    commits ~100 times while saving a master: 1.5 s of fsync). The official gradebook keeps
    SQLite's durability."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
        folder = Path(path).parent if path else None
        if folder and folder.name.startswith(THROWAWAY_PREFIX) and \
                folder.parent == Path(tempfile.gettempdir()):
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA journal_mode=MEMORY")
# nbgrader 0.9.6 + SQLAlchemy 2.1 warn about backref cascades on every new submission; harmless.
warnings.filterwarnings("ignore", module="nbgrader.api")


def _private_cache_dir() -> Path | None:
    """A directory only this user can read, for gradebook templates (None if it cannot be
    trusted: not ours, or readable by others)."""
    path = Path(tempfile.gettempdir()) / f"{THROWAWAY_PREFIX}gradebooks-{os.getuid()}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return path


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _shorten_test_tracebacks(nb) -> None:
    """IPython tracebacks quote the failing cell's source, hidden tests included: in test
    cells, keep only the exception's line (the French diagnostic)."""
    for cell in nb.cells:
        if is_test(cell):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', '')}: {out.get('evalue', '')}"]


@contextmanager
def _one_at_a_time(db_url: str):
    """A lock on a gradebook across processes and machines: PostgreSQL's advisory lock (held
    by this connection, released if the process dies), or a file lock beside a SQLite file."""
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(74077)"))  # any key, the same for all
                yield
        finally:
            engine.dispose()  # closing the connection releases the lock
    elif db_url.startswith("sqlite:///"):
        with open(f"{db_url[len('sqlite:///'):]}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
    else:
        yield


class GradebookSession:
    """One (assignment, notebook, student) in an nbgrader gradebook at `db_url`."""

    def __init__(self, db_url: str, assignment: str, student: str = "etudiant"):
        self.db_url = db_url
        self.assignment = assignment
        self.notebook = assignment  # one notebook per TP, named like the TP
        self.student = student
        self.config = Config()
        # Deleted graded cells are put back by `_put_back_deleted_cells` (nbgrader's own
        # add_missing_cells fails when the cell before one is neither graded nor a solution).

    @property
    def resources(self) -> dict:
        return {"nbgrader": {"db_url": self.db_url, "assignment": self.assignment,
                             "notebook": self.notebook, "student": self.student}}

    def save_master(self, master) -> None:
        with Gradebook(self.db_url) as gb:
            gb.update_or_create_assignment(self.assignment)
        self.source = assignment_source(master)
        SaveCells(config=self.config).preprocess(self.source, self.resources)

    @classmethod
    def private(cls, folder: Path, assignment: str, student: str, master) -> "GradebookSession":
        """A grading's throwaway gradebook in `folder`, with the master saved: copied from a
        template made once per master (saving a master costs nbgrader ~1.5 s; a copy, ms)."""
        book = cls(f"sqlite:///{folder}/gradebook.db", assignment, student)
        text = json.dumps(master, sort_keys=True)
        key = hashlib.sha256(f"{assignment}\0{nbgrader.__version__}\0{text}".encode())
        cache = _private_cache_dir()
        template = cache / f"{key.hexdigest()[:32]}.db" if cache else None
        if template is not None and template.exists():
            shutil.copyfile(template, folder / "gradebook.db")
            book.source = assignment_source(master)
            return book
        book.save_master(master)
        if template is not None:  # atomically: gradings may run side by side
            partial = cache / f"{template.stem}.{os.getpid()}.tmp"
            shutil.copyfile(folder / "gradebook.db", partial)
            os.replace(partial, template)
        return book

    def save_master_once(self, master) -> None:
        """Record the master in a lasting gradebook (a no-op when it is already there as is;
        nbgrader refuses a changed set of cells once submissions exist). Shards of one class
        start together: one at a time creates the tables and saves the cells."""
        with _one_at_a_time(self.db_url):
            self.save_master(master)

    def _ensure_submission(self, gb: Gradebook, student_name: str = "") -> None:
        first, _, last = student_name.partition(" ")
        gb.update_or_create_student(self.student, first_name=first or None,
                                    last_name=last or None)
        try:
            gb.find_submission(self.assignment, self.student)
        except MissingEntry:
            gb.add_submission(self.assignment, self.student)

    def record_submission(self, scores: dict[str, float], late_penalty: float = 0.0,
                          student_name: str = "") -> None:
        """Official record of one student: the judge's points as auto-scores (cells without a
        score get 0: nothing to grade), the late penalty (points /20) as nbgrader's."""
        with Gradebook(self.db_url) as gb:
            self._ensure_submission(gb, student_name)
            nb = gb.find_submission_notebook(self.notebook, self.assignment, self.student)
            for grade in nb.grades:
                if grade.cell_type == "markdown":  # a written answer: the instructors' to grade
                    grade.auto_score = None
                    grade.needs_manual_grade = grade.manual_score is None and grade.max_score > 0
                    continue
                grade.auto_score = float(scores.get(grade.name, 0.0))
                grade.needs_manual_grade = grade.manual_score is not None
            nb.late_submission_penalty = (late_penalty * nb.max_score / GRADE_SCALE) or None
            gb.db.commit()

    def restore(self, submission):
        """The submission with outputs cleared and grade cells restored from the master.
        A notebook nbgrader cannot restore is `Unusable` (for this student only)."""
        with Gradebook(self.db_url) as gb:
            self._ensure_submission(gb)
        nb, res = _copy(submission), self.resources
        self._reset_identities(nb)
        self._put_back_deleted_cells(nb)
        try:
            for pre in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
                nb, res = pre(config=self.config).preprocess(nb, res)
        except Exception as exc:
            raise Unusable("les cellules de test n'ont pas pu être restaurées "
                           f"({type(exc).__name__} : {str(exc)[:120]}) : repartez du notebook "
                           "fourni et recopiez-y vos réponses") from None
        return nb

    def _put_back_deleted_cells(self, nb) -> None:
        """Each graded cell of the master that the submission lacks goes back where it was:
        after the nearest cell before it in the master that the submission still has (a test
        cell as the master's, an answer cell empty, with a note)."""
        ids = [grade_id(c) for c in nb.cells]
        for index, cell in enumerate(self.source.cells):
            if not is_graded(cell) or grade_id(cell) in ids:
                continue
            restored = _copy(cell)
            if is_written(cell):  # a test cell's source is the master's anyway
                restored.source = ("Cellule de réponse supprimée dans la copie rendue : remise "
                                   "vide par le correcteur.\n\n" + restored.source)
            before = next((gid for gid in map(grade_id, reversed(self.source.cells[:index]))
                           if gid is not None and gid in ids), None)
            at = 0 if before is None else ids.index(before) + 1
            nb.cells.insert(at, restored)
            ids.insert(at, grade_id(cell))

    def _reset_identities(self, nb) -> None:
        """A cell's nbgrader flags (grade, points, locked...) are the master's, whatever the
        student did to them; unknown or malformed nbgrader metadata is dropped, and so is that
        of all but the last copy of a cell (a pasted test cell: the last copy, after the code it
        checks, stays the test cell). nbgrader would otherwise stop on inconsistent checksums or
        duplicates instead of restoring the cell."""
        master_meta = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader
                       for c in self.source.cells if "grade_id" in c.metadata.get("nbgrader", {})}
        seen = set()
        for cell in reversed(nb.cells):
            meta = cell.get("metadata", {}).get("nbgrader")
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(grade_id, str) and grade_id in seen:
                del cell.metadata["nbgrader"]
            seen.add(grade_id)
        for cell in nb.cells:
            if not (isinstance(cell.get("id"), str) and VALID_ID.fullmatch(cell["id"])):
                cell["id"] = secrets.token_hex(8)  # nbformat refuses it when writing reports
            cell.get("metadata", {}).pop("grader", None)  # verdicts are the judge's alone
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(grade_id, str) and grade_id in master_meta:
                cell.metadata["nbgrader"] = json.loads(json.dumps(master_meta[grade_id]))
            else:
                del cell.metadata["nbgrader"]

    @staticmethod
    @lru_cache(maxsize=1)
    def _exporter() -> HTMLExporter:
        """One exporter per process: its Jinja templates compile once (warm_up_feedback)."""
        cfg = Config()
        cfg.HTMLExporter.template_name = "feedback_fr"
        cfg.HTMLExporter.sanitize_html = True  # a student's <style>, <script>, onerror=...
        cfg.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
        cfg.HTMLExporter.extra_template_paths = [str(  # bootstrap, as nbgrader's feedback does
            Path(nbgrader.__file__).parent / "server_extensions/formgrader/static/node_modules"
            / "bootstrap/dist/css")]
        return HTMLExporter(config=cfg)

    @classmethod
    def warm_up_feedback(cls) -> None:
        """Load the HTML exporter's templates and highlighters once (~3 s, off the critical
        path when called while the student's notebook runs)."""
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("*a*"),
                                             nbformat.v4.new_code_cell("a = 1")])
        resources = {"nbgrader": {"notebook": "", "score": 0, "max_score": 0, "late_penalty": 0}}
        cls._exporter().from_notebook_node(nb, resources=resources)

    def feedback_html(self, graded_nb, docs: dict[str, str] | None = None) -> str:
        """The feedback page: the graded notebook with the judge's verdict under each test
        cell and what each check verifies (`docs`); hidden tests removed; student HTML and
        JavaScript sanitised (they never run in a student's or an instructor's browser)."""
        nb, res = _copy(graded_nb), self.resources
        _shorten_test_tracebacks(nb)
        nb, res = GetGrades(config=self.config).preprocess(nb, res)
        clear = ClearHiddenTests(config=self.config)
        for index, cell in enumerate(nb.cells):  # the master's test cells: a student's own
            if is_test(cell):                    # cells may quote markers, or half of them
                nb.cells[index], res = clear.preprocess_cell(cell, res, index)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if "grader" in cell.metadata and docs and grade_id in docs:
                cell.metadata["grader"]["doc"] = docs[grade_id]
        body, _ = self._exporter().from_notebook_node(nb, resources=res)
        return body
