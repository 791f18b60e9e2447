"""TP1 under the course suite: the master and the judge agree, every known mistake is refused,
the protocol holds, check() agrees with the judge, nothing the kernel imports solves an
exercise. Every check works on the master's definitions alone (no data cell needed)."""

from course_suite import CourseSuite


class TestTp1(CourseSuite):
    TP = "tp1_gradient"
