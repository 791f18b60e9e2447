"""Where student code runs: bubblewrap, an allow-list of what the kernel sees, resource limits.

The kernel is started inside bubblewrap (`bwrap`, Debian package `bubblewrap`) with fresh PID,
network, IPC and UTS namespaces and a filesystem built from an allow-list: system libraries and
the course's Python environment read-only, the TP's kernel-side package and the shared course
library read-only, a size-limited private /tmp and working directory, a fresh /proc. Nothing
else exists for it: not the repository or its .git, not the masters, the judges, the instructors'
`var/`, the gradebook, home directories or other kernels. It runs as an unprivileged user with no
capabilities (when the grader is root, bwrap builds the namespaces and `setpriv` drops to
an unprivileged uid before Python starts, so that RLIMIT_NPROC applies; otherwise bwrap's own user
namespace maps the grader's user). Limits (`prlimit`): writable memory, file size, processes,
CPU time, no core dumps. Each grading process uses its own unprivileged uid, so that the process
limit (counted per uid) is not shared with another kernel, nor can one kernel signal another.

Where bubblewrap cannot run (not installed, or namespaces refused as in Docker's default seccomp
profile) the kernel runs with the limits only, and never as root. `grader grade` says so; the
grade of record (`grader autograde`) refuses to run that way unless told explicitly.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .config import Limits

# The kernel's uid when the grader is root: one per grading process, in a range no account uses
# (Debian leaves 61000-63999 unallocated), with no capability and no file of its own on the host.
SANDBOX_UIDS = range(61000, 64000)
SANDBOX_HOME = "/tmp/home"
# Only these variables reach student code: no CI_*/GITLAB_* tokens, nothing secret-looking.
ENV_ALLOWED = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ",
    "KERAS_BACKEND", "COURSE_SCALE",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
)
# A NumPy-only TP's kernel does not see these at all (import fails: no module).
FRAMEWORKS = ("torch", "torchgen", "functorch", "tensorflow", "tensorboard", "keras", "tf_keras",
              "jax", "jaxlib", "triton", "flax")
# System paths the kernel may read (those that exist); everything else is absent.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf")
# The GPU, where there is one (device nodes; NVML reads /sys).
GPU_DEVICES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")


def forbid_inspection() -> None:
    """Make the grader process non-dumpable: same-uid code (a kernel without bubblewrap) cannot
    ptrace it nor open its /proc/<pid>/fd or /proc/<pid>/mem."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _is_root() -> bool:
    return os.geteuid() == 0


@lru_cache(maxsize=1)
def isolation_problem() -> str | None:
    """None when bubblewrap isolation works here, else why not (French, said to the user)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) n'est pas installé : apt install bubblewrap"
    if _is_root() and shutil.which("setpriv") is None:
        return "setpriv (util-linux) est absent"
    true = "/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true"
    probe = _bwrap_prefix() + _system_binds(_Mounts()).args + ["--"] + (
        _drop_privileges() if _is_root() else []) + [true]
    try:
        proc = subprocess.run(probe, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap a échoué ({exc})"
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        return ("bubblewrap ne peut pas créer d'espaces de noms ici (conteneur sans "
                "privilèges ?)" + (f" : {reason[-1]}" if reason else ""))
    return None


def _bwrap_prefix() -> list[str]:
    common = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
              "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if _is_root():  # bwrap builds the namespaces as root; setpriv then drops to sandbox_uid()
        return common
    return common + ["--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL"]


def sandbox_uid() -> int:
    return SANDBOX_UIDS[os.getpid() % len(SANDBOX_UIDS)]


def _drop_privileges() -> list[str]:
    uid = sandbox_uid()
    return ["setpriv", "--pdeathsig=KILL", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


class _Mounts:
    """bwrap's mount arguments, in order. Each destination's missing parents are created
    first, world-traversable (bwrap would make them 0700: unreachable for the kernel's user)."""

    def __init__(self):
        self.args: list[str] = []
        self.made = {"/"}

    def add(self, option: str, *paths: str, perms: str | None = None) -> "_Mounts":
        dest = paths[-1]
        for parent in reversed(Path(dest).parents):
            if str(parent) not in self.made:
                self.args += ["--perms", "0755", "--dir", str(parent)]
                self.made.add(str(parent))
        self.args += (["--perms", perms] if perms else []) + [option, *paths]
        self.made.add(dest)
        return self


def _system_binds(mounts: _Mounts) -> _Mounts:
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            mounts.add("--symlink", os.readlink(path), path)
        elif os.path.isdir(path):
            mounts.add("--ro-bind", path, path)
    for path in SYSTEM_FILES:
        if os.path.exists(path):
            mounts.add("--ro-bind", path, path)
    return mounts.add("--proc", "/proc").add("--dev", "/dev")


def _python_binds(mounts: _Mounts, numpy_only: bool) -> None:
    """The interpreter and the course's environment, read-only; without the frameworks for a
    NumPy-only TP (each other entry of site-packages is bound one by one)."""
    for prefix in sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
                          sys.prefix}):
        mounts.add("--ro-bind", prefix, prefix)
    if sys.prefix != sys.base_prefix:  # a venv: the base interpreter's own packages are not ours
        base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
        for site in sorted({base["purelib"], base["platlib"]}):
            if os.path.isdir(site):
                mounts.add("--tmpfs", site)
    if numpy_only:
        for site in sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}):
            mounts.add("--tmpfs", site)
            for entry in sorted(os.listdir(site)):
                name = entry.split("-")[0].split(".")[0].lower()
                if name not in FRAMEWORKS:
                    mounts.add("--ro-bind", os.path.join(site, entry), os.path.join(site, entry))
            mounts.args += ["--remount-ro", site]


def _gpu_binds(mounts: _Mounts) -> None:
    nodes = [f"/dev/{d}" for d in os.listdir("/dev") if d.startswith("nvidia")] \
        if os.path.exists("/dev/nvidiactl") else []
    for node in sorted(nodes):
        mounts.add("--dev-bind", node, node)
    if nodes and os.path.isdir("/sys"):
        mounts.add("--ro-bind", "/sys", "/sys")


@dataclass
class Sandbox:
    """One student's kernel. `root` is a throwaway directory of the grader's; the kernel sees
    only its parts `work` (its working directory), `lib` (course library and the kernel half of
    the protocol), `inbox` (the judge's inputs) and `run` (the kernel's sockets)."""

    root: Path
    limits: Limits
    numpy_only: bool = False

    def __post_init__(self):
        self.isolated = isolation_problem() is None

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def home(self) -> Path:
        return Path(SANDBOX_HOME) if self.isolated else self.root / "home"

    def prepare(self, package_dir: Path, course_lib: Path | None) -> None:
        """Copy what the kernel may import: the TP's kernel package, the shared course library
        and the kernel half of the check protocol (never the judges)."""
        from . import protocol, public_table

        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "test_*")
        shutil.copytree(package_dir, self.work / package_dir.name, ignore=ignore)
        if course_lib is not None and course_lib.is_dir():
            shutil.copytree(course_lib, self.lib / course_lib.name, ignore=ignore)
        (self.lib / "grader").mkdir(parents=True)
        (self.lib / "grader" / "__init__.py").write_text('"""Kernel side of the grader."""\n')
        for module in (protocol, public_table):  # the kernel's half of the check protocol
            shutil.copy2(module.__file__, self.lib / "grader" / Path(module.__file__).name)
        for d in (self.inbox, self.run, self.root / "home"):
            d.mkdir(exist_ok=True)
        self.root.chmod(0o755)
        (self.root / "etc").mkdir()
        (self.root / "etc" / "passwd").write_text(
            f"etudiant:x:{self._uid()}:{self._uid()}:etudiant:{self.home}:/bin/sh\n")
        (self.root / "etc" / "group").write_text(f"etudiant:x:{self._uid()}:\n")
        if _is_root():  # the kernel's user writes its sockets, and without bwrap its files
            for path in (self.run, self.work, self.root / "home", *self.work.rglob("*")):
                os.chown(path, sandbox_uid(), sandbox_uid())

    def give(self, path: Path) -> None:
        """Let the kernel's user read `path` (a file the grader wrote for it)."""
        if _is_root():
            os.chown(path, sandbox_uid(), sandbox_uid())

    def _uid(self) -> int:
        if _is_root():
            return sandbox_uid()
        return 1000 if self.isolated else os.getuid()

    def env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in ENV_ALLOWED if k in os.environ}
        env.setdefault("PATH", os.defpath)
        env.setdefault("LANG", "C.UTF-8")
        tmp = "/tmp" if self.isolated else str(self.root / "home")
        env.update(HOME=str(self.home), TMPDIR=tmp, USER="etudiant", LOGNAME="etudiant",
                   PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(self.lib),
                   MPLCONFIGDIR=f"{tmp}/mpl", IPYTHONDIR=f"{tmp}/ipython")
        return env

    def _limits(self) -> list[str]:
        """The limits, set by `prlimit` on the whole chain; `setpriv --pdeathsig` first, so that
        a grader killed outright (a cancelled CI job) takes its kernel with it."""
        lim = self.limits
        values = {"data": lim.memory_bytes, "fsize": lim.file_size_bytes,
                  "nproc": lim.max_processes, "cpu": int(4 * lim.notebook_timeout_s), "core": 0}
        return ["setpriv", "--pdeathsig=KILL", "--", "prlimit",
                *(f"--{k}={v}:{v}" for k, v in values.items()), "--"]

    def kernel_cmd(self, connection_file: str) -> list[str]:
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
        if not self.isolated:
            return self._limits() + (_drop_privileges() if _is_root() else []) + kernel
        size = str(2 * self.limits.file_size_bytes)
        work = str(self.work)
        mounts = _system_binds(_Mounts())
        # The private /tmp first: whatever else lives under the host's /tmp (a checkout and its
        # .venv, this box) is bound on top of it afterwards.
        mounts.add("--size", size, "--tmpfs", "/tmp", perms="1777")
        mounts.add("--dir", SANDBOX_HOME, perms="0777")
        _python_binds(mounts, self.numpy_only)
        _gpu_binds(mounts)
        mounts.add("--ro-bind", str(self.root / "etc" / "passwd"), "/etc/passwd")
        mounts.add("--ro-bind", str(self.root / "etc" / "group"), "/etc/group")
        mounts.add("--size", size, "--tmpfs", work, perms="0777")
        for path in self.work.iterdir():  # the TP's package, read-only in a writable cwd
            mounts.add("--ro-bind", str(path), f"{work}/{path.name}")
        mounts.add("--ro-bind", str(self.lib), str(self.lib))
        mounts.add("--ro-bind", str(self.inbox), str(self.inbox))
        mounts.add("--bind", str(self.run), str(self.run))
        # ipykernel exits when its parent pid changes: in the PID namespace it is bwrap's init.
        binds = mounts.args + ["--chdir", work, "--unsetenv", "JPY_PARENT_PID"]
        command = (_drop_privileges() if _is_root() else []) + kernel
        return self._limits() + _bwrap_prefix() + binds + ["--"] + command
