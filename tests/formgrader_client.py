"""nbgrader's formgrader as an instructor's browser drives it: `grader formgrader` started on a
work dir, and formgrader's own HTTP API (the calls its pages make)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from grader.config import ROOT

TOKEN = "jeton-de-test"


class Formgrader:
    """`grader formgrader` running, and formgrader's HTTP API as its pages call it."""

    def __init__(self, course, work, db_url=None):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader", "--course", str(course.root / "course.toml"),
             "formgrader", "--work", str(work), "--port", str(self.port), "--no-browser",
             *(["--db-url", db_url] if db_url else [])],
            cwd=ROOT, env=dict(os.environ, JUPYTER_TOKEN=TOKEN), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            try:
                self.get("/api/status")
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.close()
                    raise RuntimeError("formgrader did not start") from None
                time.sleep(0.5)

    def request(self, path, data=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method="PUT" if data else "GET",
            data=json.dumps(data).encode() if data else None,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read().decode()

    def get(self, path):
        return self.request(path)

    def json(self, path):
        return json.loads(self.get(path))

    def close(self):
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)

    def submissions(self, tp: str) -> dict:
        """Each student's submitted notebook of a TP (one notebook per TP, named like it)."""
        return {s["student"]: s for s in self.json(f"/formgrader/api/submitted_notebooks/{tp}/{tp}")}

    def give(self, submission_id: str, grade_id: str, score=None, comment=None) -> None:
        """Points and a comment on one cell, as the instructor types them in formgrader."""
        if score is not None:
            grades = self.json(f"/formgrader/api/grades?submission_id={submission_id}")
            grade = next(g for g in grades if g["name"] == grade_id)
            self.request(f"/formgrader/api/grade/{grade['id']}", {"manual_score": score})
        if comment is not None:
            comments = self.json(f"/formgrader/api/comments?submission_id={submission_id}")
            target = next(c for c in comments if c["name"] == grade_id)
            self.request(f"/formgrader/api/comment/{target['id']}", {"manual_comment": comment})
