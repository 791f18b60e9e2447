"""A Python child process that serves calls over a socket pair: the judge of one grading, or
one of the grading processes of a class.

The child runs `python -m <module> FD ARGS` and answers each (method, args) with ("ok", result)
or ("error", traceback). The parent gives every call a deadline; a child that dies, hangs or
breaks the connection raises `ChildFailed` and is replaced by a fresh one at the next call.
Pickle travels only between the grader's own processes, never from a kernel.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import traceback
from multiprocessing.connection import Connection


class ChildFailed(Exception):
    """The child died, hung or raised: the call has no result."""


class Child:
    """Started at once; its first reply (`ready`: the server's description) is awaited only
    when needed, so that the parent works meanwhile."""

    def __init__(self, module: str, args: tuple, *, start_timeout_s: float, timeout_s: float,
                 env: dict | None = None):
        self.module, self.args, self.env = module, args, env
        self.start_timeout_s, self.timeout_s = start_timeout_s, timeout_s
        self.process: subprocess.Popen | None = None
        self._ready = None
        self._start()

    def _start(self) -> None:
        parent, child = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, str(child.fileno()), json.dumps(self.args)],
            pass_fds=[child.fileno()], env=self.env, stdin=subprocess.DEVNULL)
        child.close()
        self.conn = Connection(parent.detach())
        self._starting = True

    @property
    def ready(self):
        """The child's description, once it has started (ChildFailed if it could not)."""
        if self._starting:
            self._starting = False
            self._ready = self._receive(self.start_timeout_s)
        return self._ready

    def _receive(self, timeout: float):
        try:
            reply = self.conn.recv() if self.conn.poll(timeout) else None
        except (EOFError, OSError):
            reply = None
        if reply is None:
            code = self.process.poll()
            self.close()
            raise ChildFailed("processus arrêté" + (f" (code {code})" if code is not None
                                                   else " : délai dépassé"))
        status, value = reply
        if status != "ok":
            raise ChildFailed(value)
        return value

    def call(self, method: str, *args, timeout: float | None = None):
        """Run `method` in the child and return its result (after any call still in flight)."""
        self.send(method, *args)
        return self.receive(timeout)

    def send(self, method: str, *args) -> None:
        """Ask for `method` without waiting: its result comes, in order, from `receive`."""
        if self.process is None:
            self._start()
        self.ready  # noqa: B018 (a fresh child answers its description first)
        try:
            self.conn.send((method, args))
        except OSError:
            self.close()
            raise ChildFailed("processus arrêté") from None

    def receive(self, timeout: float | None = None):
        """The result of the oldest call sent and not received yet."""
        if self.process is None:
            raise ChildFailed("processus arrêté")
        return self._receive(self.timeout_s if timeout is None else timeout)

    def has_result(self) -> bool:
        """A result is waiting (or the child died): `receive` would not block."""
        try:
            return self.process is not None and self.conn.poll(0)
        except OSError:
            return True

    def close(self) -> None:
        if self.process is None:
            return
        try:
            self.conn.send(None)
        except OSError:
            pass
        try:  # a child busy importing would only answer later: nothing of it needs to be kept
            self.process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.conn.close()
        self.process = None


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (a cancelled CI job kills the grader: its
    judge and grading processes must not outlive it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(fd: int, make_server) -> None:
    """The child's loop: build the server object (its description is the first reply), then
    answer calls until the parent closes."""
    die_with_parent()
    conn = Connection(fd)
    try:
        server = make_server()
        conn.send(("ok", server.describe()))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        return
    getattr(server, "warm_up", lambda: None)()
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        method, args = request
        try:
            conn.send(("ok", getattr(server, method)(*args)))
        except BaseException:
            conn.send(("error", traceback.format_exc(limit=-8)))


def child_env(**extra: str) -> dict:
    """The parent's environment for a child, one BLAS/torch thread unless set otherwise."""
    return {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), **extra}
