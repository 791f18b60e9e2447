"""The course suite on the grader's test TP: the harness every TP's tests use, shown to work."""

from conftest import TOY_COURSE_TOML
from course_suite import CourseSuite


class TestToy(CourseSuite):
    COURSE = TOY_COURSE_TOML
    TP = "toy"
    POINTS = 5
