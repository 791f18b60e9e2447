"""The notebook's own check(), as a student runs it in Jupyter: a real kernel, no grader."""

from nbclient import NotebookClient

from conftest import TOY, TOY_COURSE, master, with_answer


def _run(nb) -> list:
    """The outputs of the first test cell after running the notebook in a plain kernel."""
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(TOY_COURSE.folder(TOY))}}).execute()
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    return test.outputs


def test_a_failed_check_shows_its_french_diagnostic_and_no_grader_frames():
    outputs = _run(with_answer(master(), "carre_sol", "def carre(x):\n    return 2 * x"))
    error = next(o for o in outputs if o.output_type == "error")
    text = "\n".join(error.traceback)
    assert len(error.traceback) == 1 and "carre : vous calculez 2x au lieu de x²" in text
    assert "protocol.py" not in text and "Traceback" not in text


def test_a_passed_check_says_it_covers_the_public_example():
    outputs = _run(master())
    assert "✔ carre : correct sur l'exemple public" in "".join(o.get("text", "") for o in outputs)
