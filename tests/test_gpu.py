"""Full scale on a GPU: the PyTorch TPs' masters graded with COURSE_SCALE=full on CUDA, through
the real grading path (sandbox with the GPU's device nodes bound, judge process, hidden cases).
`pytest -m gpu`; skipped where CUDA is absent."""

import pytest

torch = pytest.importorskip("torch")

from grader.config import load_course  # noqa: E402
from grader.grading import grade_tp  # noqa: E402
from grader.results import Status  # noqa: E402

COURSE = load_course()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA absent : tests GPU sautés")
@pytest.mark.parametrize("name", ["tp4_autoencoders", "projet_generatif"])
def test_master_full_scale_on_gpu(name, monkeypatch):
    monkeypatch.setenv("COURSE_SCALE", "full")
    tp = COURSE.tp(name)
    r = grade_tp(COURSE, tp, COURSE.master(tp), seed=5, feedback=False)
    failures = {c.grade_id: (c.status, c.message, c.fault) for c in r.cells
                if c.status != Status.PASSED}
    assert not failures and r.hidden and r.grade == 20
    streams = "".join(o.get("text", "") for c in r.graded_nb.cells
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "échelle full, calcul sur cuda" in streams
    assert "GPU utilisé" in streams and "mémoire maximale allouée 0.0 Mio" not in streams
