"""The students' template repository: complete, a real git repository, and without answers."""

import re
import shutil
import subprocess

import nbformat
import pytest

from grader.config import ROOT, load_course
from grader.notebooks import starter_text
from grader.release import PUBLIC_MASTERS, build_template

COURSE = load_course()
PUBLISHED = [tp for tp in COURSE.tps.values() if COURSE.master(tp).exists()]
HIDDEN_CHECK = re.compile(r"""check\(\\?["'][\w.]+\\?["'], hidden=True\)""")  # a hidden test


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    target = tmp_path_factory.mktemp("release") / "modele"
    build_template(COURSE, target)
    return target


def _code_lines(text):
    """Non-blank, non-comment lines, stripped: the code a copy would keep."""
    return [ln.strip() for ln in text.splitlines()
            if ln.strip() and not ln.strip().startswith("#")]


def _answers(master_path, window=3):
    """The master's answers as runs of `window` consecutive solution lines (a whole region
    when it is shorter): a copied answer keeps them together, a shared generic line does not."""
    runs = set()
    for cell in nbformat.read(master_path, as_version=4).cells:
        for region in cell.source.split("### BEGIN SOLUTION")[1:]:
            lines = _code_lines(region.split("### END SOLUTION")[0])
            size = min(window, len(lines))
            runs.update("\n".join(lines[i:i + size]) for i in range(len(lines) - size + 1))
    return {r for r in runs if len(r) >= 25}


def test_template_is_a_git_repository_with_one_commit(template):
    log = subprocess.run(["git", "-C", str(template), "log", "--oneline"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) == 1
    status = subprocess.run(["git", "-C", str(template), "status", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout
    assert status == ""


def test_template_has_what_students_need(template):
    for name in (".gitlab-ci.yml", "README.md", "Makefile", "pyproject.toml", "requirements.lock",
                 "course.toml", "grader/__main__.py", "grader/protocol.py", "course/digits.py"):
        assert (template / name).is_file(), name
    assert 'masters = ".grader/masters"' in (template / "course.toml").read_text()
    assert (template / ".jupyter" / "labconfig" / "page_config.json").is_file()  # `make lab`
    for tp in PUBLISHED:
        assert (template / tp.name / tp.notebook_name).is_file()
        assert (template / tp.name / tp.package / "__init__.py").is_file()
        assert (template / tp.name / tp.package / "public.npz").is_file()
        assert (template / PUBLIC_MASTERS / tp.notebook_name).read_text() == \
            (template / tp.name / tp.notebook_name).read_text()
    assert "Pour rendre" in (template / "README.md").read_text() or \
        "Rendre" in (template / "README.md").read_text()


def _leaks(template):
    """(file, answers found in it) for every file of `template` holding an answer."""
    # the answers: runs of solution lines that no starter has (given code is not an answer)
    starters = "\n".join(line for tp in PUBLISHED for line in _code_lines("\n".join(
        c.source for c in nbformat.reads(starter_text(COURSE.master_notebook(tp)), as_version=4).cells)))
    answers = {run for tp in PUBLISHED for run in _answers(COURSE.master(tp))
               if run not in starters}
    assert answers, "the masters have solution regions"
    found = []
    for path in template.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            if marker in text:
                found.append((path, marker))
        found += [(path, m) for m in HIDDEN_CHECK.findall(text)]
        if path.suffix == ".ipynb":  # notebook sources are JSON strings: compare the cells
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        code = "\n".join(_code_lines(text))
        found += [(path, a) for a in answers if a in code]
    return found


def test_template_holds_no_answers(template):
    assert not (template / "solutions").exists()
    assert not (template / "judges").exists(), "the judges hold the oracles"
    assert not list(template.rglob("test_*.py")), "mutation tests read the masters"
    assert _leaks(template) == []


def test_scan_finds_an_answer_copied_into_a_kernel_package(template, tmp_path):
    copy = tmp_path / "copie"
    shutil.copytree(template, copy, ignore=shutil.ignore_patterns(".git"))
    tp = PUBLISHED[0]
    source = next(c.source for c in nbformat.read(COURSE.master(tp), as_version=4).cells
                  if "### BEGIN SOLUTION" in c.source and c.source.count("\n") > 6)
    region = source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    with open(copy / tp.name / tp.package / "__init__.py", "a", encoding="utf-8") as f:
        f.write("\n\ndef _aide():\n" + region)
    assert [p for p, _ in _leaks(copy)] and all(p.suffix == ".py" for p, _ in _leaks(copy))


def test_student_grading_in_template_gives_zero(template):
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "grader", "grade", "--out", "grades"],
        cwd=template, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert re.findall(r"^Note : (\S+)/20", proc.stdout, re.M) == ["0.00"]
    assert "à compléter" in proc.stdout


def test_release_of_one_tp_leaves_the_others_alone(tmp_path):
    """`grader release --tp X` regenerates X only: content work on one TP never rewrites another
    TP's starter from a master that is being edited."""
    from grader.__main__ import main
    from grader.release import write_starters

    assert write_starters(COURSE, ["tp1_gradient"]) == ["tp1_gradient"]
    assert main(["release", "--tp", "inconnu"]) != 0


@pytest.mark.parametrize("tp", PUBLISHED, ids=lambda tp: tp.name)
def test_reference_figures_are_up_to_date(tp):
    """Each figure the master tags is drawn, from the master and kernel package as they are now,
    and shown in the TP's README (`make release` redraws what is stale)."""
    from grader.figures import problems

    assert problems(COURSE, tp) == []


def test_release_draws_reference_figures_and_redraws_them_when_stale(course):
    """The process: a tagged study cell gets its PNG and README block at release; a later
    change of the code before it makes it stale; release draws it again; untagging removes it."""
    from grader.figures import FIGURES, problems, write_figures

    toy = load_course(course / "course.toml")
    tp, path = toy.tp("toy"), course / "solutions" / "toy.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(6, nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nplt.plot(carre(np.arange(5)))\nplt.show()",
        metadata={"reference_figure": "carres"}))
    nbformat.write(nb, path)
    assert problems(toy, tp) == ["carres.png manque",
                                 "le bloc « figures de référence » du README n'est pas à jour"]
    assert write_figures(toy, tp) == ["carres"]
    png = course / "toy" / FIGURES / "carres.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![carres](figures/carres.png)" in (course / "toy" / "README.md").read_text()
    assert problems(toy, tp) == [] and write_figures(toy, tp) == []  # up to date: not redrawn

    nb.cells[2].source = nb.cells[2].source.replace(") ** 2", ") * np.asarray(x)")  # code above the figure
    nbformat.write(nb, path)
    assert problems(toy, tp) == ["carres.png est périmée (le maître ou le paquet du TP a changé)"]
    assert write_figures(toy, tp) == ["carres"] and problems(toy, tp) == []

    del nb.cells[6].metadata["reference_figure"]
    nbformat.write(nb, path)
    assert problems(toy, tp) == ["carres.png ne correspond à aucune cellule du maître"]
    write_figures(toy, tp)
    assert not png.exists() and "figures" not in (course / "toy" / "README.md").read_text()
    assert problems(toy, tp) == []
