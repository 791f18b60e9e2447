"""The instructors' implementation, read from a master notebook.

The judge's public table (`grader release`) and the mutation tests feed the checks the master's
own code (the master must pass) and plausible wrong versions of it (each must be refused). The
code comes from the master notebook itself, never from a copy: its imports cell and its solution
cells made only of definitions.
"""

from __future__ import annotations

import ast
import functools
import warnings
from pathlib import Path

import nbformat

DEFINITIONS = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def without_magics(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))


def only_definitions(source: str) -> bool:
    return all(isinstance(node, DEFINITIONS) for node in ast.parse(source).body)


class Master:
    def __init__(self, path: Path):
        self.path = Path(path)

    @functools.cached_property
    def notebook(self) -> nbformat.NotebookNode:
        return nbformat.read(self.path, as_version=4)

    @functools.cached_property
    def cells(self) -> dict[str, nbformat.NotebookNode]:
        """Code cells by grade_id."""
        return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in self.notebook.cells
                if c.cell_type == "code"}

    @functools.cached_property
    def _definitions(self) -> list:
        import matplotlib

        matplotlib.use("Agg")
        sources = [("imports", without_magics(self.cells["imports"].source))]
        sources += [(gid, c.source) for gid, c in self.cells.items()
                    if c.metadata.get("nbgrader", {}).get("solution") and only_definitions(c.source)]
        return [compile(src, f"<{gid}>", "exec") for gid, src in sources]

    def ns(self, **overrides) -> dict:
        """A fresh namespace with the master's definitions, then `overrides`. The master's
        functions look their helpers up in this namespace, so an overridden helper is used."""
        ns = {"__name__": f"{self.path.stem}_master"}
        for code in self._definitions:
            exec(code, ns)
        ns.update(overrides)
        return ns

    def run(self, ns: dict, *grade_ids: str) -> dict:
        """Run the master's cells `grade_ids` (data, training...) in `ns`; figures closed."""
        import matplotlib.pyplot as plt

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for gid in grade_ids:
                exec(compile(without_magics(self.cells[gid].source), f"<{gid}>", "exec"), ns)
        plt.close("all")
        return ns
