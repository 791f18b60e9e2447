"""Notebook files: reading untrusted submissions, releasing starters, static rules on answers."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat


CODE_STUB = "# VOTRE CODE ICI\nraise NotImplementedError()"
TEXT_STUB = "**Votre réponse :** *(écrivez votre réponse ici)*"  # written answers
MAX_NOTEBOOK_BYTES = 100 * 2**20
MAX_NOTEBOOK_DEPTH = 64  # a notebook's JSON nests about 8 deep; outputs' JSON data a little more


class Unusable(Exception):
    """The submission cannot be graded at all; the message (French) says why."""


def depth_exceeds(obj, limit: int) -> bool:
    """More than `limit` nested lists/dicts (checked without recursion)."""
    stack = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


CONFLICT = re.compile(rb"^<<<<<<< .*$(?s:.*)^>>>>>>> ", re.M)


def conflict_message(path: Path, p: str) -> str:
    """`p`: the notebook's path as students type it in their repository (<tp>/<tp>.ipynb)."""
    return (f"{path.name} contient des marqueurs de conflit git (<<<<<<< ======= >>>>>>>) : ce "
            "n'est plus un notebook, JupyterLab ne peut pas l'ouvrir. Pour garder votre version : "
            f"git checkout --ours -- {p} (après git pull ou git merge ; --theirs après "
            f"git pull --rebase), puis git add {p} et git commit. Pour repartir de votre dernier "
            f"commit : git checkout HEAD -- {p}")


def load_submission(path: Path, shown: str | None = None) -> nbformat.NotebookNode:
    """The submission as a notebook, else `Unusable` with the cause and a fix; `shown` is its
    path in the student's repository (for the git commands of the messages)."""
    shown = shown or path.name
    if not path.is_file():
        raise Unusable(f"notebook introuvable : {path.name} (a-t-il été renommé, déplacé ou "
                       "oublié dans le commit ?)")
    raw = path.read_bytes()
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise Unusable(f"{path.name} pèse {len(raw) // 2**20} Mo : trop gros pour un notebook "
                       "(videz les sorties : Edit > Clear Outputs of All Cells, puis enregistrez)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise Unusable(f"{path.name} : structure JSON imbriquée trop profondément, ce n'est pas "
                       "un notebook valide") from None
    except UnicodeDecodeError:
        raise Unusable(f"{path.name} n'est pas un fichier texte UTF-8 : ce n'est pas un notebook")
    except json.JSONDecodeError as exc:
        if CONFLICT.search(raw):
            raise Unusable(conflict_message(path, shown)) from None
        raise Unusable(f"{path.name} n'est pas un JSON valide (ligne {exc.lineno}, colonne "
                       f"{exc.colno}) : le fichier a été modifié hors de Jupyter ou tronqué. "
                       f"Reprenez la version de votre dernier commit : git checkout HEAD -- "
                       f"{shown}") from None
    if depth_exceeds(data, MAX_NOTEBOOK_DEPTH):
        raise Unusable(f"{path.name} : structure JSON imbriquée trop profondément, ce n'est pas "
                       "un notebook valide")
    if not isinstance(data, dict) or "cells" not in data:
        raise Unusable(f"{path.name} n'est pas un notebook Jupyter (pas de liste de cellules)")
    if data.get("nbformat") != 4:
        raise Unusable(f"{path.name} : format de notebook {data.get('nbformat')!r} non pris en "
                       "charge (nbformat 4 attendu, enregistrez-le avec un Jupyter récent)")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        for cell in nb.cells:  # what the grader relies on, whatever the file claims
            if cell.get("cell_type") not in ("code", "markdown", "raw"):
                raise ValueError(f"type de cellule inconnu {cell.get('cell_type')!r}")
            if not isinstance(cell.get("source", ""), str):
                raise ValueError("source de cellule illisible")
            if not isinstance(cell.get("metadata", {}), dict):
                raise ValueError("métadonnées de cellule illisibles")
    except Exception as exc:  # nbformat raises many kinds on corrupt structure
        raise Unusable(f"{path.name} : structure de notebook invalide ({exc})"[:300])
    return nb


def _nbgrader(cell) -> dict:
    """A cell's nbgrader metadata ({} when absent or malformed: cells may be a student's)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    gid = _nbgrader(cell).get("grade_id")
    return gid if isinstance(gid, str) else None


def is_graded(cell) -> bool:
    """A cell with points: nbgrader's `grade` flag (the grader restores it from the master)."""
    return bool(_nbgrader(cell).get("grade"))


def is_test(cell) -> bool:
    """A test cell: graded and not the student's to write (the judge gives its points)."""
    return is_graded(cell) and not _nbgrader(cell).get("solution")


def is_written(cell) -> bool:
    """A written answer: graded and the student's to write (instructors give its points, in
    formgrader)."""
    return is_graded(cell) and bool(_nbgrader(cell).get("solution"))


def grade_cells(master: nbformat.NotebookNode) -> list[tuple[str, float]]:
    """(grade_id, points) of the master's test cells, in notebook order."""
    return [(c.metadata.nbgrader["grade_id"], float(c.metadata.nbgrader.get("points", 0)))
            for c in master.cells if is_test(c)]


def master_notebook(path: Path, written_points: float) -> nbformat.NotebookNode:
    """A master as graded: each written answer worth `written_points` (course.toml, per TP;
    0 by default: the grade is the tests' alone)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if is_written(cell):
            cell.metadata.nbgrader["points"] = written_points
    return nb


def written_points(master: nbformat.NotebookNode) -> float:
    return sum(float(c.metadata.nbgrader.get("points", 0)) for c in master.cells
               if is_written(c))


def _preprocess(nb, steps, cfg=None):
    from traitlets.config import Config

    cfg = cfg or Config()
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    resources = {"nbgrader": {}}
    for pre in steps:
        nb, resources = pre(config=cfg).preprocess(nb, resources)
    return nb


def assignment_source(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The master as nbgrader records it in the gradebook: solutions replaced by the French
    stubs, checksums computed, hidden tests still there (`generate_assignment`'s order)."""
    from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, LockCells
    from traitlets.config import Config

    cfg = Config()
    cfg.ClearSolutions.code_stub = {"python": CODE_STUB}
    cfg.ClearSolutions.text_stub = TEXT_STUB
    nb = _preprocess(master, (LockCells, ClearSolutions, ClearOutput, ComputeChecksums), cfg)
    for cell in nb.cells:  # execution metadata of the master's last run is noise
        cell.metadata.pop("execution", None)
    return nb


def release(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The students' starter: the assignment source without hidden tests and mark schemes."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ComputeChecksums

    return _preprocess(assignment_source(master),
                       (ClearHiddenTests, ClearMarkScheme, ComputeChecksums))


def starter_text(master: nbformat.NotebookNode) -> str:
    return nbformat.writes(release(master)) + "\n"


# -- static rule: from-scratch answers use NumPy only ------------------------------------------
# The sandbox hides the frameworks from a NumPy-only TP's kernel altogether; this rule covers
# the exercises of other TPs that must be written from scratch (a convolution by hand in the
# Keras TP), and says precisely which cell broke the rule.
FORBIDDEN_IN_NUMPY_ONLY = ("torch", "keras", "tensorflow", "tf", "jax")
# Ways to reach a module or code without naming it: refused in from-scratch answers.
DYNAMIC = ("importlib", "__import__", "exec", "eval", "compile", "modules", "__builtins__",
           "builtins", "runpy", "get_ipython", "import_module", "run_cell", "run_line_magic",
           "system", "subprocess", "ctypes")
ALLOWED_MAGICS = ("%matplotlib",)


@dataclass
class _Unit:
    """One top-level statement of a code cell (or one imported name): what it defines, what it
    mentions, and the frameworks or dynamic tricks it uses."""

    defines: set[str]
    uses: set[str]
    forbidden: set[str]


def _parse(source: str) -> tuple[ast.Module | None, set[str]]:
    """The cell's syntax tree (None if it does not parse) and its magic or shell commands."""
    magics, lines = set(), []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            if not stripped.startswith(ALLOWED_MAGICS):
                magics.add(stripped.split()[0][:20])
            continue
        lines.append(line)
    try:
        return ast.parse("\n".join(lines)), magics
    except SyntaxError:
        return None, magics


def _units(tree: ast.Module, magics: set[str]) -> list[_Unit]:
    units = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            base = [stmt.module.split(".")[0]] if getattr(stmt, "module", None) else []
            for alias in stmt.names:
                module = base or [alias.name.split(".")[0]]
                units.append(_Unit({(alias.asname or alias.name).split(".")[0]}, set(module),
                                   set(module) & set(FORBIDDEN_IN_NUMPY_ONLY + DYNAMIC)))
            continue
        unit = _Unit(set(), set(), set())
        strings = set()
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                unit.defines.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                unit.defines.update(n.id for t in targets for n in ast.walk(t)
                                    if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):  # inside a function
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                unit.uses.update(n.split(".")[0] for n in names if n)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value.split(".")[0])  # __import__("torch")...
            if isinstance(node, ast.Name):
                unit.uses.add(node.id)
            elif isinstance(node, ast.Attribute):
                unit.uses.add(node.attr)
        unit.forbidden = ((unit.uses | strings) & set(FORBIDDEN_IN_NUMPY_ONLY)) | (
            unit.uses & set(DYNAMIC)) | magics
        unit.uses -= _local_names(stmt)  # a local `model` is not the notebook's `model`
        units.append(unit)
    return units


def _local_names(stmt: ast.stmt) -> set[str]:
    """Names bound inside the functions of `stmt` (arguments, assignments, loop variables)."""
    names = set()
    for fn in ast.walk(stmt):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = fn.args
            names.update(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
            names.update(a.arg for a in (args.vararg, args.kwarg) if a)
            names.update(n.id for n in ast.walk(fn)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return names


def numpy_only_violations(nb: nbformat.NotebookNode,
                          targets: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """French message per exercise (name -> its targets) whose targets are defined with a
    framework or a dynamic import or execution, in the statement defining them or in what that
    statement uses (functions, aliases, variables, imports) anywhere in the notebook."""
    units, unparsed = [], False
    for c in nb.cells:
        if c.cell_type == "code":
            tree, magics = _parse(c.source)
            if tree is not None:
                units += _units(tree, magics)
            unparsed |= tree is None  # a syntax error: the kernel will say where
    out = {}
    for name, wanted in targets.items():
        for target in wanted:
            if not unparsed and not any(target in u.defines for u in units):
                out[name] = (f"« {target} » doit être défini par une cellule du notebook "
                             "(def), pas par exec, %run ou un import")
        todo, seen = list(wanted), set()
        while todo and name not in out:
            used = todo.pop()
            if used in seen:
                continue
            seen.add(used)
            for unit in units:
                if used in unit.defines:
                    if unit.forbidden:
                        out[name] = (
                            "exercice à résoudre avec NumPy uniquement : le code qui définit "
                            f"« {used} » utilise {', '.join(sorted(unit.forbidden))}")
                        break
                    todo.extend(unit.uses)
    return out
