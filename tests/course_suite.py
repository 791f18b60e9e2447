"""The tests every TP's judge and kernel package must pass: one strict rule for all TPs.

A TP's tests subclass `CourseSuite` (in `tests/<package>/test_protocol.py`), naming the course
and the TP; the suite then checks, for every exercise of the TP:

- the master and the judge agree: 20 points, one check per test cell, the master passes on
  public and hidden cases (several hidden seeds);
- every known mistake (`CHECKS.mistakes`) is refused, with its diagnostic, on the public cases
  and on the hidden cases when it says "both" (the strict rule: a check that cannot fail is a
  defect), and each check has at least three such mistakes;
- the protocol holds whatever the student does: stubs and missing names are "à compléter",
  cheating objects and exceptions earn nothing, the npz/JSON grading path gives the same
  verdict, and a verdict fed strange data either accepts it or raises AssertionError (any other
  exception is a grader fault, and this test fails on it);
- the notebook's own check() agrees with the judge on the master and the mistakes, names the
  known mistakes, and its public table is the one `grader release` would write;
- nothing the kernel can import solves an exercise (each public callable of the TP's kernel
  package and of the course library, given as the student's answer, is refused).

Subclasses override `namespace(name)` where a check needs more than the master's definitions
(data or trained models from the master's cells).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
from functools import cached_property
from pathlib import Path

import numpy as np
import pytest

from grader.config import ROOT, load_course
from grader.judging import JudgeFault, run_verdict
from grader.masters import Master
from grader.notebooks import TEXT_STUB, is_test, is_written
from grader.protocol import (CheckFailed, PUBLIC_SEED, decode_answer, encode_answer, evaluate,
                             load_cases, payload, roundtrip, save_cases)
from grader.results import Status

HIDDEN_SEEDS = (1, 2, 3)
# What every graded cell of a master is: the public check, then the hidden one.
TEST_TEMPLATE = ('check("{0}")\n### BEGIN HIDDEN TESTS\ncheck("{0}", hidden=True)\n'
                 "### END HIDDEN TESTS")


def load_judge(course_root: Path, package: str):
    """The judge package `judges.<package>` of a course, imported under a name of its own when
    the course is not this repository (a test course beside the real one)."""
    course_root = Path(course_root).resolve()
    if course_root == ROOT:
        return importlib.import_module(f"judges.{package}")
    alias = f"_judges_{abs(hash(str(course_root)))}"
    if alias not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            alias, course_root / "judges" / "__init__.py",
            submodule_search_locations=[str(course_root / "judges")])
        module = importlib.util.module_from_spec(spec)
        sys.modules[alias] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{alias}.{package}")


def _stub(*args, **kwargs):
    raise NotImplementedError()


class AlwaysEqual:
    """An answer that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise TypeError("not an array")


CHEATS = {
    "always-equal": AlwaysEqual(), "list-of-str": ["a", "b"], "str": "texte",
    "nan": float("nan"), "none": None, "tuple-always-equal": (AlwaysEqual(),) * 4,
    "tuple-nan": (np.nan, np.nan), "tuple-of-str-lists": (["x"], ["y"], ["z"]),
}


class CourseSuite:
    COURSE: Path = ROOT / "course.toml"
    TP: str = ""
    POINTS = 20  # a TP's test cells total 20 points, in halves

    # -- what the tests work on --------------------------------------------------------------
    @cached_property
    def course(self):
        return load_course(self.COURSE)

    @cached_property
    def tp(self):
        return self.course.tp(self.TP)

    @cached_property
    def checks(self):
        return load_judge(self.course.root, self.tp.package).CHECKS

    @cached_property
    def master(self) -> Master:
        return Master(self.course.master(self.tp))

    def namespace(self, name: str, **overrides) -> dict:
        """A namespace where `name`'s targets are the master's (then `overrides`)."""
        return self.master.ns(**overrides)

    def judge(self, name: str, ns: dict, hidden: bool = False, seed: int | None = None):
        return self.checks.run_in_process(name, ns, hidden=hidden, seed=seed)

    def pytest_generate_tests(self, metafunc):
        course = load_course(self.COURSE)
        checks = load_judge(course.root, course.tp(self.TP).package).CHECKS
        names = sorted(checks)
        if "mistake" in metafunc.fixturenames:
            params = [pytest.param(name, m, hidden,
                                   id=f"{name}-{m.label}-{'cache' if hidden else 'public'}")
                      for name in names for m in checks.mistakes.get(name, [])
                      for hidden in ((False, True) if m.where == "both"
                                     else (m.where == "hidden",))]
            metafunc.parametrize("name,mistake,hidden", params)
        elif "name" in metafunc.fixturenames:
            metafunc.parametrize("name", names)
        if "cheat" in metafunc.fixturenames:
            metafunc.parametrize("cheat", sorted(CHEATS))

    # -- the master and the judge agree ------------------------------------------------------
    def test_points_and_test_cells_are_the_checks(self):
        graded = [c for c in self.master.notebook.cells if is_test(c)]
        points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
                  for c in graded}
        assert len(points) == len(graded), "grade_id en double"
        assert sum(points.values()) == self.POINTS
        assert all(float(p) * 2 == int(float(p) * 2) for p in points.values())
        assert set(points) == set(self.checks)
        for cell in graded:
            gid = cell.metadata["nbgrader"]["grade_id"]
            assert cell.cell_type == "code" and cell.source == TEST_TEMPLATE.format(gid)
            assert cell.metadata["nbgrader"]["locked"] and not cell.metadata["nbgrader"]["solution"]

    def test_written_answers_are_manually_graded_cells(self):
        """Each « Votre réponse » cell is an nbgrader answer cell for formgrader, worth
        nothing in the master (course.toml's written_points gives them their points)."""
        cells = self.master.notebook.cells
        answers = [c for c in cells if c.cell_type == "markdown"
                   and c.source.lstrip().startswith("**Votre réponse")]
        assert answers and answers == [c for c in cells if is_written(c)]
        for cell in answers:
            meta = cell.metadata["nbgrader"]
            assert meta["grade_id"].startswith("reponse_") and meta["points"] == 0
            assert not meta["locked"] and cell.source == TEXT_STUB

    def test_every_exercise_has_a_check(self):
        assert set(self.checks) == set(self.checks.exercises)

    def test_master_passes(self, name):
        ns = self.namespace(name)
        assert self.judge(name, ns) == (Status.PASSED, "")
        for seed in HIDDEN_SEEDS:
            status, message = self.judge(name, ns, hidden=True, seed=seed)
            assert status == Status.PASSED, (seed, message)

    def test_master_respects_numpy_only(self):
        from grader.notebooks import numpy_only_violations

        targets = {n: self.checks.exercise(n).targets for n, c in self.checks.items()
                   if c.numpy_only}
        assert numpy_only_violations(self.master.notebook, targets) == {}

    # -- every mistake is refused ------------------------------------------------------------
    def test_mistake_refused(self, name, mistake, hidden):
        ns = self.namespace(name, **mistake.overrides)
        status, message = self.judge(name, ns, hidden=hidden, seed=HIDDEN_SEEDS[0])
        assert status == Status.FAILED, (status, message)
        if mistake.words:
            assert mistake.words in message, message

    def test_every_check_refuses_three_mistakes_on_both_case_sets(self):
        for name in self.checks:
            both = [m for m in self.checks.mistakes.get(name, []) if m.where == "both"]
            assert len(both) >= 3, name

    # -- the protocol, whatever the student does -----------------------------------------------
    def test_stub_is_incomplete(self, name):
        ns = self.namespace(name, **{t: _stub for t in self.checks.exercise(name).targets})
        status, message = self.judge(name, ns)
        assert status == Status.INCOMPLETE and "NotImplementedError" in message

    def test_missing_target_is_incomplete(self, name):
        ns = self.namespace(name)
        for target in self.checks.exercise(name).targets:
            ns.pop(target, None)
        status, message = self.judge(name, ns)
        assert status == Status.INCOMPLETE and "n'est pas défini" in message

    def test_cheating_answers_get_nothing(self, name, cheat):
        answer = CHEATS[cheat]
        ns = self.namespace(name, **{t: (lambda *a, **k: answer)
                                     for t in self.checks.exercise(name).targets})
        for hidden in (False, True):
            status, message = self.judge(name, ns, hidden=hidden, seed=HIDDEN_SEEDS[0])
            assert status in (Status.FAILED, Status.ERROR), message

    def test_student_exception_is_an_error(self, name):
        def boom(*args, **kwargs):
            raise ValueError("oups")

        ns = self.namespace(name, **{t: boom for t in self.checks.exercise(name).targets})
        status, message = self.judge(name, ns)
        assert status == Status.ERROR and "oups" in message

    def test_grading_path_through_npz_and_json(self, name, tmp_path):
        """Cases as the kernel gets them when grading (npz without pickle), answers as JSON."""
        cases = self.checks.cases(name, seed=HIDDEN_SEEDS[0], hidden=True)
        save_cases(cases, tmp_path / "cases.npz")
        ns = self.namespace(name)
        payloads = [payload(self.checks.exercise(name), case, ns)
                    for case in load_cases(tmp_path / "cases.npz")]
        payloads = json.loads(json.dumps(payloads))
        assert tuple(self.checks.decide(name, cases, payloads)) == (Status.PASSED, "", None)

    def test_verdicts_never_crash_on_strange_answers(self, name):
        """Whatever the kernel sends, the verdict itself either accepts or raises
        AssertionError: any other exception would be a grader fault."""
        chk, exercise = self.checks[name], self.checks.exercise(name)
        case = chk.cases(np.random.default_rng(PUBLIC_SEED), False)[0]
        good = decode_answer(encode_answer(
            evaluate(exercise, roundtrip([case])[0], self.namespace(name))))
        strange = [{}, {k: "texte" for k in good}]
        for key in good:
            for value in (np.full(np.shape(good[key]), 1e300), np.full(np.shape(good[key]), -1e-300),
                          np.reshape(good[key], (1, -1)) if not isinstance(good[key], str) else "",
                          np.zeros((3, 0)), np.arange(7.0), np.full((2, 2, 2), 1e200), np.inf,
                          "x" * 1000):
                strange.append({**good, key: value})
        for answer in strange:
            try:
                run_verdict(chk, case, answer)
            except AssertionError:
                pass
            except JudgeFault as exc:
                pytest.fail(f"{name} : la vérification plante sur {sorted(answer)} : {exc}")

    # -- the notebook's own check, without oracles ---------------------------------------------
    def test_public_table_is_the_one_release_writes(self):
        from grader.release import stale_public_tables

        course = self.course
        assert self.tp.name not in stale_public_tables(
            type(course)(**{**course.__dict__, "tps": {self.tp.name: self.tp}}))

    def test_notebook_check_agrees_with_the_judge(self, name):
        """On the public cases, check() (public table) and the judge give the same outcome for
        the master and every mistake, and check() names each known mistake as the judge does."""
        runs = [("maître", {})] + [(m.label, m.overrides)
                                   for m in self.checks.mistakes.get(name, [])]
        for label, overrides in runs:
            ns = self.namespace(name, **overrides)
            status, message = self.judge(name, ns)
            if status == Status.ERROR:
                continue  # the student's code raised: check() shows the exception itself
            try:
                self._run_check(name, ns)
                local = Status.PASSED, ""
            except CheckFailed as exc:
                local = Status.FAILED, str(exc)
            except NotImplementedError as exc:
                local = Status.INCOMPLETE, str(exc)
            assert (local[0] == Status.PASSED) == (status == Status.PASSED), (label, message, local)
            if status == Status.FAILED and self.checks.exercise(name).selfcheck is None \
                    and message in [m for _, m in self.checks.exercises.public[name].mistakes]:
                assert message in local[1], (label, message, local)

    def _run_check(self, name: str, ns: dict) -> None:
        exec(compile(f"check({name!r})", "<test>", "exec"),
             {**ns, "check": self.checks.exercises.check})

    def test_check_in_notebook_prints(self, name, capsys):
        self._run_check(name, self.namespace(name))
        assert f"✔ {name}" in capsys.readouterr().out

    def test_nothing_the_kernel_imports_solves_an_exercise(self, name):
        """Each public callable of the TP's kernel package and of the course library, given as
        the student's answer to `name`, is refused."""
        for label, fn in self._kernel_callables():
            ns = self.namespace(name, **{t: fn for t in self.checks.exercise(name).targets})
            status, message = self.judge(name, ns)
            assert status != Status.PASSED, f"{label} résout {name}"

    def _kernel_callables(self):
        modules = [importlib.import_module(self.tp.package)]
        library = self.course.library
        if library.is_dir():
            modules += [importlib.import_module(f"course.{p.stem}")
                        for p in sorted(library.glob("*.py")) if p.stem != "__init__"]
        for package in list(modules):
            path = getattr(package, "__path__", None)
            if path:
                modules += [importlib.import_module(f"{package.__name__}.{p.stem}")
                            for p in sorted(Path(path[0]).glob("*.py")) if p.stem != "__init__"]
        seen = set()
        for module in modules:
            for attr, fn in list(vars(module).items()):  # running them may add attributes
                if attr.startswith("_") or not callable(fn) or inspect.isclass(fn) and issubclass(
                        fn, BaseException) or id(fn) in seen:
                    continue
                if getattr(fn, "__module__", "").split(".")[0] not in (
                        self.tp.package, "course"):
                    continue  # numpy, the protocol...: not the course's code
                seen.add(id(fn))
                yield f"{module.__name__}.{attr}", fn
