"""TP2 under the course suite: master and judge agree, every known mistake is refused, the
protocol holds, check() agrees with the judge (tests/course_suite.py)."""

from course_suite import CourseSuite

from judges.tp2.mistakes import trained

MODEL_CHECKS = ("modele_diapo", "modele_cancer", "modele_diabete", "modele_chiffres")


class TestTp2(CourseSuite):
    TP = "tp2_mlp"

    def namespace(self, name: str, **overrides) -> dict:
        """The trained-model checks need the master's data and training cells (run once)."""
        if name in MODEL_CHECKS:
            return {**trained(), **overrides}
        return self.master.ns(**overrides)

