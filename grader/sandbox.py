"""Where student code runs: a throwaway directory, a scrubbed environment, namespaces, limits.

The kernel is started as `unshare ... python -m grader.sandbox POLICY -- python -m ipykernel_launcher`:
`unshare` gives it its own user, mount, network and PID namespaces (no network, no view of the
grader's processes, everything killed with it); this module's `main` then makes the repository
read-only, hides the masters/gradebook/reports, applies resource limits and execs the kernel.
Where namespaces are not allowed (some containers) the kernel runs with the limits only, and the
grader says so. The kernel talks to the grader over Unix sockets (`ipc` transport), which work
across network namespaces.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .config import Limits

# Only these variables reach student code: no CI_*/GITLAB_* tokens, nothing secret-looking.
ENV_ALLOWED = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
    "KERAS_BACKEND", "COURSE_SCALE",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
)
UNSHARE = ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork",
           "--kill-child", "--mount-proc"]
# If the grader itself dies (SIGKILL, OOM killer, cancelled CI job), the kernel dies with it:
# `unshare --kill-child` covers the kernel once `unshare` dies, this covers `unshare`.
PDEATHSIG = ["setpriv", "--pdeathsig", "KILL"]

MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096


@lru_cache(maxsize=1)
def namespaces_unavailable() -> str | None:
    """None when `unshare` isolation works here, else the reason (said once to the user)."""
    if shutil.which("unshare") is None:
        return "la commande unshare est absente"
    try:
        proc = subprocess.run(UNSHARE + ["true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare a échoué ({exc})"
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        return "espaces de noms refusés par le système" + (f" ({reason[-1]})" if reason else "")
    return None


def forbid_inspection() -> None:
    """Make the grader process non-dumpable: same-uid code (the kernel) cannot ptrace it nor
    open its /proc/<pid>/fd or /proc/<pid>/mem (e.g. to write into the grader's log)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


@dataclass
class Sandbox:
    """One student's kernel environment. `root` is the throwaway directory the kernel sees."""

    root: Path
    limits: Limits
    hidden: list[Path] = field(default_factory=list)  # not even listable from the kernel
    readonly: list[Path] = field(default_factory=list)  # visible but not writable

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def prepare(self) -> None:
        for d in (self.home, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in ENV_ALLOWED if k in os.environ}
        env.setdefault("PATH", os.defpath)
        env.setdefault("LANG", "C.UTF-8")
        env.update(HOME=str(self.home), TMPDIR=str(self.tmp), PYTHONNOUSERSITE="1",
                   MPLCONFIGDIR=str(self.tmp / "mpl"))
        return env

    def kernel_cmd(self, connection_file: str) -> list[str]:
        policy = {
            "memory": self.limits.memory_bytes,
            "file_size": self.limits.file_size_bytes,
            "processes": self.limits.max_processes,
            "cpu_s": int(4 * self.limits.notebook_timeout_s),
            "namespaces": namespaces_unavailable() is None,
            "hidden": [str(p) for p in self.hidden if p.is_dir()],
            "readonly": [str(p) for p in self.readonly if p.is_dir()],
        }
        jail = [sys.executable, "-m", "grader.sandbox", json.dumps(policy), "--",
                sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
        guard = PDEATHSIG if shutil.which(PDEATHSIG[0]) else []
        return guard + ((UNSHARE + jail) if policy["namespaces"] else jail)


def _mount(libc, source: str, target: str, fstype: str | None, flags: int, data: str | None):
    if libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                  flags, data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def main(argv: list[str]) -> None:
    """Inside the namespaces: lock the filesystem, set limits, become the kernel."""
    policy = json.loads(argv[0])
    command = argv[argv.index("--") + 1:]
    if policy["namespaces"]:
        libc = ctypes.CDLL(None, use_errno=True)
        for path in policy["readonly"]:
            _mount(libc, path, path, None, MS_BIND, None)
            _mount(libc, path, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        for path in policy["hidden"]:  # after the read-only binds, so they stay on top
            _mount(libc, "none", path, "tmpfs", MS_RDONLY, "size=4k,mode=000")
    limits = {
        # Writable private memory, not address space: CUDA (and some allocators) reserve tens of
        # GB of inaccessible address space at start-up, which RLIMIT_AS would refuse.
        resource.RLIMIT_DATA: policy["memory"],
        resource.RLIMIT_FSIZE: policy["file_size"],
        resource.RLIMIT_NPROC: policy["processes"],
        resource.RLIMIT_CPU: policy["cpu_s"],
        resource.RLIMIT_CORE: 0,
    }
    for kind, value in limits.items():
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
