"""The pipelines are valid GitLab CI (offline schema); the students' read our grade line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.config import ROOT
from grader.report import grade_line


STUDENTS = [".gitlab-ci.yml", "ci/protected.gitlab-ci.yml"]
PIPELINES = [*STUDENTS, "ci/instructors.gitlab-ci.yml"]  # run by test_shards.py


@pytest.mark.parametrize("name", PIPELINES)
def test_gitlab_ci_matches_schema(name):
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run([str(exe), "--builtin-schema", "vendor.gitlab-ci", str(ROOT / name)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", STUDENTS)
def test_coverage_regex_reads_the_percentage_of_the_grade_line(name):
    ci = yaml.safe_load((ROOT / name).read_text())
    pattern = ci["grade"]["coverage"].strip("/")
    log = "Note de la cellule : 3\n" + grade_line(13.5) + "\n"
    matches = re.findall(pattern, log, re.M)
    assert matches == ["67.50"]


@pytest.mark.parametrize("name", STUDENTS)
def test_one_grading_job_grades_every_tp(name):
    """A commit costs what it changed: unchanged notebooks come from the grade cache, and the
    environment is restored once (student pipeline), or is the image (protected one)."""
    ci = yaml.safe_load((ROOT / name).read_text())
    jobs = [k for k, v in ci.items() if isinstance(v, dict) and "script" in v]
    assert sorted(jobs) == (["gpu", "grade"] if name == ".gitlab-ci.yml" else ["grade"])
    script = " ".join(ci["grade"]["script"])
    assert "grade" in script and "TP=" not in script and "parallel" not in ci["grade"]


def test_gpu_job_grades_the_generative_tps_at_full_scale():
    gpu = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())["gpu"]
    assert gpu["tags"] == ["gpu"] and gpu["variables"]["COURSE_SCALE"] == "full"
    assert gpu["allow_failure"] is True  # never blocks a student's pipeline
    assert {"if": '$COURSE_GPU_RUNNER == "true"'} in gpu["rules"]
    assert "tp4_autoencoders" in " ".join(gpu["script"]) and "projet_generatif" in " ".join(gpu["script"])
