"""Execute a notebook cell by cell in a sandboxed kernel, giving the judge a turn after each cell.

nbclient runs the cells; this module adds what grading needs on top of it: the sandboxed kernel,
a hard per-cell deadline (a kernel that ignores the interrupt is killed), a whole-notebook budget,
a restart when the kernel dies (`sys.exit` in C code, `os._exit`, a crash, a memory limit) so the
rest of the notebook is still graded, and bounds on what the kernel can send: each message is
limited in size and nesting depth (a message beyond them is dropped, never parsed into the
grader), and each cell's outputs are capped as they arrive.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable

import nbformat
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import default

from .notebooks import depth_exceeds
from .protocol import ANSWER_MIME, MAX_ANSWER_BYTES
from .sandbox import Sandbox

MAX_OUTPUT_CHARS = 200_000  # per cell: enough for any honest print, keeps reports small
MAX_MESSAGE_BYTES = 2 * MAX_ANSWER_BYTES  # one kernel message (an answer is the largest)
MAX_MESSAGE_DEPTH = 64  # nesting of a message's content (answers need 6)
MAX_RESTARTS = 5
KILL_GRACE_S = 5  # after the interrupt, before the kernel is killed

RunCode = Callable[[str], list]  # run extra code in the kernel, get its outputs
# Called after each code cell; run_code is None when the cell killed the kernel.
AfterCell = Callable[[nbformat.NotebookNode, int, "RunCode | None"], None]

_DROPPED = {"header": {"msg_type": "grader_dropped", "msg_id": ""}, "msg_id": "",
            "msg_type": "grader_dropped", "parent_header": {}, "metadata": {}, "content": {},
            "buffers": []}


class BoundedSession(Session):
    """The grader's side of the kernel's message protocol: a message that is too large, too
    deeply nested or malformed is dropped (it matches no request, so nbclient ignores it)."""

    def feed_identities(self, msg_list, copy=True):
        try:
            return super().feed_identities(msg_list, copy)
        except Exception:
            return [], []

    def deserialize(self, msg_list, content=True, copy=True):
        try:
            if sum(len(m.bytes if hasattr(m, "bytes") else m) for m in msg_list) \
                    > MAX_MESSAGE_BYTES:
                return dict(_DROPPED)
            msg = super().deserialize(msg_list, content, copy)
            if depth_exceeds([msg["header"], msg["parent_header"], msg["metadata"],
                              msg["content"]], MAX_MESSAGE_DEPTH):
                return dict(_DROPPED)
            return msg
        except Exception:  # RecursionError, bad JSON, bad signature, missing parts...
            return dict(_DROPPED)


class BoundedKernelClient(AsyncKernelClient):
    """Sockets that refuse oversized messages before they are received in full."""

    def _create_connected_socket(self, channel, identity=None):
        context_socket = self.context.socket

        def bounded(socket_type):  # the option must be set before `connect`
            sock = context_socket(socket_type)
            sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            return sock

        self.context.socket = bounded
        try:
            return super()._create_connected_socket(channel, identity)
        finally:
            del self.context.socket


class SandboxKernelManager(AsyncKernelManager):
    """A python3 kernel started inside the sandbox, over Unix sockets."""

    sandbox: Sandbox  # set by the client before start
    client_class = "grader.execute.BoundedKernelClient"

    @default("session")
    def _bounded_session(self):
        return BoundedSession(parent=self)

    def format_kernel_cmd(self, extra_arguments=None):
        self.sandbox.give(Path(self.connection_file))  # written 0600 by the grader
        return self.sandbox.kernel_cmd(os.path.realpath(self.connection_file))


class SandboxClient(NotebookClient):
    def __init__(self, nb, sandbox: Sandbox, run_dir: Path, **kw):
        super().__init__(nb, kernel_name="python3", **kw)
        self.sandbox = sandbox
        self.run_dir = run_dir
        self.output_budget = MAX_OUTPUT_CHARS

    def create_kernel_manager(self):
        km = SandboxKernelManager(kernel_name="python3", transport="ipc",
                                  ip=str(self.run_dir / "k"))
        km.sandbox = self.sandbox
        km.connection_file = str(self.run_dir / f"kernel-{time.monotonic_ns()}.json")
        # The kernel is behind bwrap: interrupt it by a message, not a signal to bwrap.
        km.kernel_spec.interrupt_mode = "message"
        self.km = km
        return km

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's outputs within its budget as they arrive (the judge's answers are
        bounded by the message size instead)."""
        content = msg.get("content", {})
        if ANSWER_MIME not in content.get("data", {}):
            size = len(str(content.get("text", ""))) + sum(
                len(str(v)) for v in content.get("data", {}).values()) + len(
                str(content.get("traceback", "")))
            if size > self.output_budget:
                if self.output_budget >= 0:
                    outs.append(nbformat.v4.new_output(
                        "stream", name="stdout",
                        text="\n[... sortie tronquée par le correcteur ...]\n"))
                self.output_budget = -1
                return None
            self.output_budget -= size
        return super().output(outs, msg, display_id, cell_index)


def _note(text: str) -> nbformat.NotebookNode:
    """An error output written by the grader (not the student's kernel)."""
    return nbformat.v4.new_output("error", ename="Correcteur", evalue=text, traceback=[text])


def _mark_not_run(cells, reason: str) -> None:
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs = [_note(f"Non exécutée : {reason}.")]


def cap_outputs(cell: nbformat.NotebookNode, limit: int = MAX_OUTPUT_CHARS) -> None:
    """Truncate huge outputs (a student printing 50 MB) so reports stay readable."""
    total = 0
    kept = []
    for out in cell.get("outputs", []):
        size = len(str(out.get("text", ""))) + sum(len(str(v)) for v in out.get("data", {}).values())
        if total + size > limit:
            if out.get("output_type") == "stream":
                out["text"] = str(out["text"])[: max(0, limit - total)]
                kept.append(out)
            kept.append(nbformat.v4.new_output(
                "stream", name="stdout", text="\n[... sortie tronquée par le correcteur ...]\n"))
            break
        total += size
        kept.append(out)
    cell["outputs"] = kept


# Errors that mean a sandbox limit was hit, and what to tell the student (French).
LIMIT_NOTES = (
    ("MemoryError", "Limite de mémoire du correcteur atteinte : réduisez la taille des tableaux."),
    ("File too large", "Limite de taille de fichier du correcteur atteinte."),
    ("Resource temporarily unavailable", "Limite de processus/threads du correcteur atteinte."),
)


def explain_limits(cell: nbformat.NotebookNode) -> None:
    """Add a French note under an error caused by a sandbox limit."""
    for out in list(cell.get("outputs", [])):
        if out.get("output_type") != "error":
            continue
        text = f"{out.get('ename')}: {out.get('evalue')}"
        for needle, note in LIMIT_NOTES:
            if needle in text:
                cell["outputs"].append(_note(note))
                return


class Execution:
    """Runs a notebook in `sandbox`, calling `after_cell(cell, index, run_code)` after each code
    cell. `start_kernel()` may be called first: the kernel boots while the caller prepares."""

    def __init__(self, sandbox: Sandbox):
        run_dir = sandbox.run
        self.nb = None
        self.sandbox = sandbox
        self.limits = sandbox.limits
        self.after_cell: AfterCell = lambda *a: None
        self.run_dir = run_dir
        self.log = open(run_dir.parent / "kernel.log", "ab")  # the kernel's fds: never our console
        self.client = SandboxClient(
            nbformat.v4.new_notebook(), sandbox, run_dir,
            timeout=int(self.limits.cell_timeout_s),
            interrupt_on_timeout=True,
            allow_errors=True,
            iopub_timeout=5,
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(sandbox.root / "work")}},
        )
        self.restarts = 0

    # -- kernel control ---------------------------------------------------------------------
    def _kill(self) -> None:
        """SIGKILL the kernel's whole process group (with namespaces: everything it started)."""
        km = self.client.km
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _with_deadline(self, fn, seconds: float):
        timer = threading.Timer(seconds, self._kill)
        timer.daemon = True
        timer.start()
        try:
            return fn()
        finally:
            timer.cancel()

    def run_code(self, source: str) -> list:
        """Execute `source` in the kernel outside the notebook; return its outputs."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.output_budget = MAX_OUTPUT_CHARS
        first = self.nb.cells[0]  # nbclient stores the executed cell at the index given
        try:
            self._with_deadline(
                lambda: self.client.execute_cell(cell, 0, store_history=False),
                self.limits.cell_timeout_s + KILL_GRACE_S,
            )
        finally:
            self.nb.cells[0] = first
        return cell.outputs

    def _kernel_options(self) -> dict:
        return dict(env=self.sandbox.env(), stdout=self.log, stderr=self.log,
                    cwd=str(self.sandbox.root / "work"))

    def start_kernel(self) -> None:
        """Launch the kernel process now (it boots on its own; `run` connects to it)."""
        self.client.create_kernel_manager()
        self.client.start_new_kernel(**self._kernel_options())

    # -- the notebook --------------------------------------------------------------------------
    def run(self, nb, after_cell: AfterCell | None = None,
            skip: Callable[[nbformat.NotebookNode], bool] = lambda cell: False) -> None:
        """Execute `nb`'s code cells in order; cells for which `skip(cell)` is true are not
        executed (their outputs cleared), but `after_cell` still gets its turn."""
        self.nb = self.client.nb = nb
        self.after_cell = after_cell or self.after_cell
        self.skip = skip
        deadline = time.monotonic() + self.limits.notebook_timeout_s
        cells = self.nb.cells
        i = 0
        try:
            while i < len(cells):
                try:
                    with self.client.setup_kernel(**self._kernel_options()):
                        while i < len(cells):
                            if time.monotonic() > deadline:
                                return _mark_not_run(cells[i:], "le temps total alloué au notebook "
                                             f"({self.limits.notebook_timeout_s:.0f} s) est dépassé")
                            self._run_cell(cells[i], i)
                            i += 1
                except DeadKernelError:
                    cells[i].setdefault("outputs", []).append(_note(
                        "Le noyau Python s'est arrêté pendant cette cellule (sys.exit/os._exit, "
                        "plantage, limite de mémoire ou de temps CPU atteinte). Le correcteur a "
                        "redémarré un noyau neuf pour la suite : les variables définies avant "
                        "sont perdues."))
                    self.after_cell(cells[i], i, None)  # None: no kernel to ask any more
                    i += 1
                    self.restarts += 1
                    if self.restarts > MAX_RESTARTS:
                        return _mark_not_run(cells[i:], "trop d'arrêts du noyau")
        finally:
            self.close()

    def close(self) -> None:
        """Kill the kernel if it still runs (e.g. the caller failed before `run`)."""
        if self.client.km is not None and self.client.km.has_kernel:
            self._kill()
            self.client._cleanup_kernel()
        self.log.close()

    def _run_cell(self, cell, index: int) -> None:
        if cell.cell_type != "code":
            return
        if self.skip(cell):
            cell.outputs = []
            self.after_cell(cell, index, self.run_code)
            return
        start = time.monotonic()
        self.client.output_budget = MAX_OUTPUT_CHARS
        try:
            self._with_deadline(lambda: self.client.execute_cell(cell, index),
                                self.limits.cell_timeout_s + KILL_GRACE_S)
        except CellTimeoutError:
            pass
        if time.monotonic() - start >= self.limits.cell_timeout_s:
            cell.setdefault("outputs", []).append(_note(
                f"Cellule interrompue après {self.limits.cell_timeout_s:.0f} s (boucle infinie ?)."))
        cap_outputs(cell)
        explain_limits(cell)
        self.after_cell(cell, index, self.run_code)
