"""Notebook files: reading untrusted submissions, releasing starters, static rules on answers."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .checks import Check

CODE_STUB = "# VOTRE CODE ICI\nraise NotImplementedError()"
TEXT_STUB = "VOTRE RÉPONSE ICI"
FORBIDDEN_IN_NUMPY_ONLY = ("torch", "keras", "tensorflow", "tf", "jax")


class Unusable(Exception):
    """The submission cannot be graded at all; the message (French) says why."""


def load_submission(path: Path) -> nbformat.NotebookNode:
    if not path.is_file():
        raise Unusable(f"notebook introuvable : {path.name} (a-t-il été renommé, déplacé ou "
                       "oublié dans le commit ?)")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Unusable(f"{path.name} n'est pas un fichier texte UTF-8 : ce n'est pas un notebook")
    except json.JSONDecodeError as exc:
        raise Unusable(f"{path.name} n'est pas un JSON valide (ligne {exc.lineno}, colonne "
                       f"{exc.colno}) : un conflit de fusion git ? Rouvrez le notebook dans "
                       "Jupyter et enregistrez-le")
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


def grade_cells(master: nbformat.NotebookNode) -> list[tuple[str, float]]:
    """(grade_id, points) of the master's graded cells, in notebook order."""
    out = []
    for cell in master.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            out.append((meta["grade_id"], float(meta.get("points", 0))))
    return out


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


def starter_text(master_path: Path) -> str:
    return nbformat.writes(release(nbformat.read(master_path, as_version=4))) + "\n"


# -- static rule: from-scratch answers use NumPy only ------------------------------------------
@dataclass
class _Cell:
    """What the rule needs to know of one code cell, computed once."""

    defines: set[str]  # functions, classes and assigned names
    functions: set[str]  # functions and classes only
    uses: set[str]  # every name it mentions
    forbidden: set[str]  # torch/keras/... it imports or mentions


def _parse(source: str) -> ast.AST | None:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _index(tree: ast.AST) -> _Cell:
    cell = _Cell(set(), set(), set(), set())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            cell.functions.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            cell.defines.update(n.id for t in targets for n in ast.walk(t)
                                if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import):
            cell.forbidden.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            cell.forbidden.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            cell.forbidden.add(node.value.split(".")[0])  # __import__("torch"), importlib...
        if isinstance(node, ast.Name):
            cell.uses.add(node.id)
    cell.defines |= cell.functions
    cell.forbidden = (cell.forbidden | cell.uses) & set(FORBIDDEN_IN_NUMPY_ONLY)
    return cell


def numpy_only_violations(nb: nbformat.NotebookNode, checks: list[Check]) -> dict[str, str]:
    """French message per check whose targets are defined with torch/keras/tensorflow (in the
    cells defining them, or in the functions they call, defined elsewhere in the notebook)."""
    cells = [_index(t) for c in nb.cells if c.cell_type == "code" and (t := _parse(c.source))]
    out = {}
    for check in checks:
        todo, seen = list(check.targets), set()
        while todo and check.name not in out:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for cell in cells:
                if name in (cell.defines if name in check.targets else cell.functions):
                    if cell.forbidden:
                        out[check.name] = (
                            "exercice à résoudre avec NumPy uniquement : le code qui définit "
                            f"« {name} » utilise {', '.join(sorted(cell.forbidden))}")
                        break
                    todo.extend(cell.uses)
    return out
