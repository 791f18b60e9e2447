"""TP3 under the course suite: master and judge agree, every known mistake is refused, the
protocol holds, check() agrees with the judge (tests/course_suite.py)."""

from course_suite import CourseSuite

from judges.tp3.cnn import trained


class TestTp3(CourseSuite):
    TP = "tp3_cnn"

    def namespace(self, name: str, **overrides) -> dict:
        """The CNN check needs the master's data and training cells (run once)."""
        if name == "cnn_chiffres":
            return {**trained(), **overrides}
        return self.master.ns(**overrides)

