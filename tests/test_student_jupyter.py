"""The students' JupyterLab (`make lab` in their repository) shows what a student needs only:
nbgrader's instructor tools and its Validate button are off. Checked on a real Jupyter server."""

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from grader.config import ROOT

SETTINGS = ROOT / "grader" / "templates" / "jupyter_etudiant"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except urllib.error.URLError:  # not listening yet
        return 0, ""


@pytest.mark.parametrize("student", [True, False], ids=["student", "instructor"])
def test_nbgrader_tools_are_off_for_students_only(tmp_path, student):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    if student:
        shutil.copytree(SETTINGS, tmp_path / ".jupyter")
        env["JUPYTER_CONFIG_DIR"] = str(tmp_path / ".jupyter")
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
         "--ServerApp.token=t", "--allow-root", f"--ServerApp.root_dir={tmp_path}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            if _get(f"{base}/api/status?token=t")[0] == 200:
                break
            time.sleep(0.5)
        formgrader = _get(f"{base}/formgrader?token=t")[0]
        status, page = _get(f"{base}/lab?token=t")
        config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page,
                                      re.S).group(1))
        disabled = config.get("disabledExtensions", [])
        if student:
            assert formgrader == 404 and "@jupyter/nbgrader" in disabled
        else:
            assert formgrader == 200 and "@jupyter/nbgrader" not in disabled
    finally:
        server.terminate()
        server.wait(timeout=20)
