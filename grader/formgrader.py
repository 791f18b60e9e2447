"""nbgrader's formgrader on the official work dir (`grader formgrader`): instructors read each
written answer beside the student's code and the judge's verdicts, and give points and comments
in the browser; they land in the gradebook as manual scores, which exports, reports and
feedback use and re-grading never overwrites.

The work dir is laid out as nbgrader's course directory where formgrader reads it (the
gradebook, `autograded/<student>/<tp>/<tp>.ipynb` written by autograde); this module writes its
`nbgrader_config.py` and starts JupyterLab there. Student content is hostile: formgrader renders
markdown and HTML outputs unsanitised, so the notebook it reads is the sanitised copy that
autograde writes (no script, no event handler may reach the instructor's browser, where it
would act with the Jupyter server's token: kernels, terminals, files).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

CONFIG = """# Written by `grader formgrader`: nbgrader's formgrader on this work dir.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
# Student notebooks may carry HTML and JavaScript (autograde also writes sanitised copies).
c.HTMLExporter.sanitize_html = True
c.Exchange.root = {exchange!r}  # unused (collect and retours use git): a quiet, private one
"""


IMAGES = {"image/png", "image/jpeg", "image/gif"}  # base64 text in an <img src="data:...">
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


def sanitized(nb):
    """The graded notebook as formgrader may show it, each judge's verdict as the output of its
    test cell. Formgrader's template passes raw HTML through, so the HTML in markdown cells is
    cleaned (no script, no event handler, no style; the Markdown around it stays), HTML and
    Markdown outputs are cleaned too, LaTeX is shown as text, images must be base64, and
    outputs that can run code (JavaScript, SVG, widgets) are replaced by a note."""
    from nbconvert.filters import clean_html, markdown2html

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        verdict = cell.metadata.get("grader")
        if isinstance(verdict, dict):  # the judge's verdict, under its test cell
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=(
                f"Correcteur : {verdict.get('status')}, {verdict.get('points', 0):g}/"
                f"{verdict.get('max_points', 0):g} pt" + (f" — {verdict['message']}"
                                                          if verdict.get("message") else "")))]
        if cell.cell_type == "markdown":  # its raw HTML cleaned, its Markdown kept
            cell.source = clean_html(cell.source)
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not isinstance(data, dict):
                continue
            for mime in list(data):
                if mime == "text/html":
                    data[mime] = clean_html(_text(data[mime]))
                elif mime == "text/markdown":
                    data["text/html"] = clean_html(markdown2html(_text(data.pop(mime))))
                elif mime == "text/latex":  # written into the page as it is: shown as text
                    data.setdefault("text/plain", _text(data.pop(mime)))
                elif mime in IMAGES and BASE64.fullmatch(_text(data[mime])):
                    pass  # an image, and nothing that could close its attribute
                elif mime != "text/plain":
                    del data[mime]
                    data.setdefault("text/plain", f"[sortie {mime} retirée pour la notation]")
    return nb


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def write_config(work: Path, db_url: str) -> Path:
    path = work / "nbgrader_config.py"
    (work / "echange").mkdir(mode=0o700, exist_ok=True)
    path.write_text(CONFIG.format(root=str(work), db_url=db_url,
                                  exchange=str(work / "echange")), encoding="utf-8")
    path.chmod(0o600)  # the gradebook's URL may hold a password
    return path


def command(work: Path, port: int | None, open_browser: bool) -> list[str]:
    """JupyterLab on the work dir, with nbgrader's formgrader (Nbgrader menu > Formgrader)."""
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={work}",
           "--ServerApp.ip=127.0.0.1"]
    if os.geteuid() == 0:  # a container or CI machine: Jupyter refuses root unless told
        cmd.append("--allow-root")
    if port:
        cmd.append(f"--ServerApp.port={port}")
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def serve(work: Path, db_url: str, port: int | None = None, open_browser: bool = True) -> int:
    write_config(work, db_url)
    print("Formgrader : menu Nbgrader > Formgrader (ou /formgrader), puis « Manage "
          "Submissions » ; Ctrl-C pour arrêter.", flush=True)
    return subprocess.run(command(work, port, open_browser), cwd=work).returncode
