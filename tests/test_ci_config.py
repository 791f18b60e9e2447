"""The student pipeline is valid GitLab CI (offline schema) and reads our grade line."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.config import ROOT
from grader.report import grade_line


PIPELINES = [".gitlab-ci.yml", "ci/protected.gitlab-ci.yml"]


@pytest.mark.parametrize("name", PIPELINES)
def test_gitlab_ci_matches_schema(name):
    exe = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run([str(exe), "--builtin-schema", "vendor.gitlab-ci", str(ROOT / name)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_coverage_regex_reads_the_percentage_of_the_grade_line():
    ci = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    pattern = ci["grade"]["coverage"].strip("/")
    assert ci["note"]["coverage"] == ci["grade"]["coverage"]
    log = "Note de la cellule : 3\n" + grade_line(13.5) + "\n"
    matches = re.findall(pattern, log, re.M)
    assert matches == ["67.50"]


@pytest.mark.parametrize("name", PIPELINES)
def test_pipeline_has_one_grading_job_per_tp_of_the_course(name):
    from grader.config import load_course

    ci = yaml.safe_load((ROOT / name).read_text())
    assert ci["grade"]["parallel"]["matrix"][0]["TP"] == list(load_course().tps)
    assert ci["note"]["coverage"] == ci["grade"]["coverage"]


def test_gpu_job_grades_the_generative_tps_at_full_scale():
    gpu = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())["gpu"]
    assert gpu["tags"] == ["gpu"] and gpu["variables"]["COURSE_SCALE"] == "full"
    assert gpu["allow_failure"] is True  # never blocks a student's pipeline
    assert {"if": '$COURSE_GPU_RUNNER == "true"'} in gpu["rules"]
    assert "tp4_autoencoders" in " ".join(gpu["script"]) and "projet_generatif" in " ".join(gpu["script"])
