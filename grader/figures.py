"""Reference figures: what a correct study plot looks like, drawn by the executed master.

A master's code cell that draws a study plot carries the metadata `"reference_figure": NAME`.
`grader release` executes the master (the instructors' own notebook, in a plain kernel) when a
figure is missing or stale, and writes the last image the cell displayed to
`<tp>/figures/NAME.png`. Starters have no outputs, so without these a student never sees a
correct plot; the TP's README shows them (a generated block), and the template repository ships
them with the TP folder.

A figure is stale when what could change it has changed: the master's code up to its cell, or
the Python files of the TP's kernel package and of the course library. Each figure's
fingerprint of those is kept in `figures/figures.json`, so staleness is known without executing
anything (the course suite tests it) and PNG bytes, which differ between matplotlib builds, are
never compared.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import nbformat

from .config import TP, Course

FIGURES = "figures"
INDEX = "figures.json"
TAG = "reference_figure"
README_BLOCK = re.compile(r"<!-- figures de référence : début -->.*?"
                          r"<!-- figures de référence : fin -->", re.S)
NAME = re.compile(r"[a-z0-9_]{1,60}")


def tagged_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index, name) of the master's cells that draw a reference figure, in notebook order."""
    return [(i, c.metadata[TAG]) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and TAG in c.metadata]


def _sources(course: Course, tp: TP) -> list[Path]:
    """The files besides the master whose change can change a figure."""
    files = sorted(course.kernel_package(tp).rglob("*.py"))
    if course.library.is_dir():
        files += sorted(course.library.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def fingerprints(course: Course, tp: TP, nb: nbformat.NotebookNode) -> dict[str, str]:
    """Each tagged figure's fingerprint: the master's code up to its cell, and the sources."""
    base = hashlib.sha256()
    for f in _sources(course, tp):
        base.update(f.relative_to(course.root).as_posix().encode() + b"\0" + f.read_bytes())
    out, code = {}, hashlib.sha256()
    tags = dict(tagged_cells(nb))
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            code.update(cell.source.encode() + b"\0")
        if i in tags:
            h = base.copy()
            h.update(code.digest())
            out[tags[i]] = h.hexdigest()
    return out


def _index(course: Course, tp: TP) -> dict:
    path = course.folder(tp) / FIGURES / INDEX
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def problems(course: Course, tp: TP) -> list[str]:
    """What is wrong with the TP's committed figures (French; empty when they are up to date)."""
    nb = course.master_notebook(tp)
    tags = tagged_cells(nb)
    names = [n for _, n in tags]
    out = [f"nom de figure invalide ou en double : {n!r}" for n in names
           if not NAME.fullmatch(str(n)) or names.count(n) > 1]
    folder, index = course.folder(tp) / FIGURES, _index(course, tp)
    for name, fp in fingerprints(course, tp, nb).items():
        if not (folder / f"{name}.png").exists():
            out.append(f"{name}.png manque")
        elif index.get(name, {}).get("fingerprint") != fp:
            out.append(f"{name}.png est périmée (le maître ou le paquet du TP a changé)")
    out += [f"{p.name} ne correspond à aucune cellule du maître" for p in folder.glob("*.png")
            if p.stem not in names]
    readme = course.folder(tp) / "README.md"
    shown = README_BLOCK.search(readme.read_text("utf-8")) if readme.exists() else None
    if names and (shown is None or shown.group(0) != readme_block(nb, tags)):
        out.append("le bloc « figures de référence » du README n'est pas à jour")
    return out


def _caption(nb: nbformat.NotebookNode, index: int) -> str:
    """The title of the section the cell is in (the nearest heading above it)."""
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            heads = [ln.lstrip("#").strip() for ln in cell.source.splitlines()
                     if ln.startswith("#")]
            if heads:
                return heads[-1]
    return ""


def readme_block(nb: nbformat.NotebookNode, tags: list[tuple[int, str]]) -> str:
    lines = ["<!-- figures de référence : début -->", "## Figures de référence", "",
             "Ce que tracent les cellules d'étude du corrigé exécuté (échelle rapide), pour "
             "comparer avec vos propres courbes. Générées par `make release`, jamais à la main.",
             ""]
    for i, name in tags:
        lines += [f"**{_caption(nb, i)}** (`{name}`)", "", f"![{name}]({FIGURES}/{name}.png)", ""]
    return "\n".join(lines + ["<!-- figures de référence : fin -->"])


def _execute(course: Course, tp: TP, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The master executed as a student would run it (quick scale, default backend)."""
    from nbclient import NotebookClient

    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_SCALE", "KERAS_BACKEND")}
    env["OMP_NUM_THREADS"] = "1"
    folder = str(course.folder(tp))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [folder, env.get("PYTHONPATH")]))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": folder}})
    client.execute(env=env, stderr=subprocess.DEVNULL)  # the kernel's warnings are noise here
    return nb


def write_figures(course: Course, tp: TP, force: bool = False) -> list[str]:
    """Execute the master if any figure is missing or stale; write the figures, their index
    and the README's block. Returns the names written (none when all were up to date)."""
    if not force and not problems(course, tp):
        return []
    nb = course.master_notebook(tp)
    tags = tagged_cells(nb)
    folder = course.folder(tp) / FIGURES
    for old in folder.glob("*.png"):
        old.unlink()
    if tags:
        prints = fingerprints(course, tp, nb)
        executed = _execute(course, tp, nbformat.from_dict(json.loads(json.dumps(nb))))
        folder.mkdir(exist_ok=True)
        for i, name in tags:
            images = [o["data"]["image/png"] for o in executed.cells[i].outputs
                      if o.get("output_type") in ("display_data", "execute_result")
                      and "image/png" in o.get("data", {})]
            if not images:
                raise RuntimeError(f"{tp.name} : la cellule {i} ({name}) n'affiche aucune figure")
            (folder / f"{name}.png").write_bytes(base64.b64decode(images[-1]))
        (folder / INDEX).write_text(json.dumps(
            {n: {"fingerprint": prints[n]} for _, n in tags}, indent=1, sort_keys=True) + "\n",
            encoding="utf-8")
    elif (folder / INDEX).exists():
        (folder / INDEX).unlink()
    _write_readme_block(course, tp, nb, tags)
    return [n for _, n in tags]


def _write_readme_block(course: Course, tp: TP, nb, tags) -> None:
    readme = course.folder(tp) / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else f"# {tp.title}\n"
    block = readme_block(nb, tags) if tags else ""
    if README_BLOCK.search(text):
        text = README_BLOCK.sub(lambda m: block, text)
    elif block:
        text = text.rstrip("\n") + "\n\n" + block
    readme.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
