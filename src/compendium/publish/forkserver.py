"""The build's fork server: the scientific stack imported once, one forked child per notebook.

``python -m compendium.publish.forkserver FOLDER`` (started by :mod:`compendium.publish.client`,
detached, in the project folder, with the build's environment)

``python -m compendium.publish.forkserver --warm`` imports :data:`PRELOAD` once and exits: run by
``make env`` after installing, so that Python writes the bytecode of exactly what a build
imports (the environment is installed without compiling every file: see the README).

It listens on ``FOLDER/sock`` (FOLDER is private to the user, mode 700), then imports what the
notebooks and the runner import (:data:`PRELOAD`) and warms the HTML exporter. For every
request it forks a child that takes the client's standard output and error, working folder,
environment and arguments and runs :func:`compendium.publish.runner.main` with the in-process
engine (:mod:`compendium.publish.engine`), then reports the child's exit code to the client.
A request naming a ``module`` (``client --module``: the data check, the site steps) has its
child run that module as ``__main__`` with the request's arguments instead, as
``python -m MODULE ARGS`` would: the same ``sys.argv``, ``sys.path[0]`` (the working folder),
messages and exit code (``SystemExit``'s, 1 after an uncaught exception's traceback).

- A fresh namespace for every notebook: each child is a copy of the server as it was after the
  imports; nothing a notebook does (its variables, a module's state) reaches the server or
  another child.
- Never stale code: the server notes the package's source files (path, size, mtime) and the
  environment's site-packages folders when it starts; a request finding them changed is
  answered ``stale`` and the server stops (the client starts a fresh one).
- A client that goes away (Ctrl-C of make, killed) has its child killed, with the child's
  process group.
- It stops when idle for :data:`IDLE_S` seconds, or when asked (``client --stop``, the site
  step at the end of a build), once its running children are done.
- ``COMPENDIUM_SERVER_USAGE=PATH`` in its environment: at exit it appends its CPU time and its
  children's (user, system) as one JSON line to PATH (the benchmark counts it; a detached
  process is no one's child to be counted otherwise), and the peak memory of itself or its
  largest child.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import pkgutil
import runpy
import select
import signal
import site
import socket
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any

from compendium.publish.client import recv_message, send_message

IDLE_S = float(os.environ.get("COMPENDIUM_SERVER_IDLE", "5"))
REQUEST_TIMEOUT_S = 10.0  # for a connected client to send its request
# What the notebooks, the runner and the in-process kernel import when they run (measured:
# the modules a child imported that the server had not), besides every module of the
# package's data, analysis and publish stages. Imported once here; a module missing from this
# list is only slower (each child imports it again).
PRELOAD = (
    "numpy", "pandas", "scipy.stats", "statsmodels.api", "matplotlib.figure",
    "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg", "seaborn",
    "PIL.Image", "PIL.PngImagePlugin", "PIL.BmpImagePlugin", "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin", "PIL.PpmImagePlugin", "pandera.pandas", "pandera.strategies",
    "hypothesis", "python_calamine", "zmq", "tornado.ioloop", "bdb",
    "papermill", "nbformat", "nbclient", "nbconvert", "sqlite3", "IPython",
    "ipykernel.ipkernel", "ipykernel.debugger", "ipykernel.inprocess.ipkernel",
)
STAGES = ("compendium.data", "compendium.analysis", "compendium.publish")
SERVER_PATH0 = sys.path[0] if sys.path else ""  # the server's own folder, as `python -m` set it


def source_stamp() -> list[tuple[str, int, int]]:
    """The package's files (path, size, mtime) and the site-packages folders' mtimes: what,
    once changed, makes the imported code stale."""
    import compendium

    package = Path(compendium.__file__).parent
    stamp = []
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        st = path.stat()
        stamp.append((str(path), st.st_size, st.st_mtime_ns))
    for folder in site.getsitepackages():
        if os.path.isdir(folder):
            stamp.append((folder, 0, os.stat(folder).st_mtime_ns))
    return stamp


def preload() -> None:
    """Import :data:`PRELOAD` and warm the HTML exporter (templates compiled, lexer loaded)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # as the runner
    names = list(PRELOAD)
    for stage in STAGES:
        package = importlib.import_module(stage)
        names += [f"{stage}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                  if not m.name.startswith("_")]
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # an optional package that is not installed (hypothesis, in the runtime
            # environment) is no news; a module missing inside an installed one is
            if exc.name != name.split(".")[0]:
                print(f"[forkserver] not preloaded: {name}: {exc}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - a child imports what it needs itself
            print(f"[forkserver] not preloaded: {name}: {exc}", file=sys.stderr)
    from compendium.publish import runner

    runner.prepare_exporter()
    gc.collect()
    gc.freeze()  # the children share these objects' pages instead of copying them on GC


def exit_code(exc: SystemExit) -> int:
    """The exit code Python gives ``exc`` at the top (None: 0; a message: printed, 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def run_module(module: str, argv: list[str], cwd: str) -> int:
    """Run ``module`` as ``python -m module *argv`` does, in this process; its exit code.

    Through runpy's own entry for ``-m`` (so a traceback shows the frames a direct run
    shows, and a missing module gives the same message), in a fresh ``__main__``.
    """
    sys.argv = [module, *argv]  # runpy puts the module's file in sys.argv[0]
    if sys.path and sys.path[0] == SERVER_PATH0:
        sys.path[0] = cwd  # `python -m` puts its working folder first
    # As in `python -m`, the module runs only as __main__: the server's import of it (it may
    # be preloaded) is set aside, or runpy would warn of a module found in sys.modules.
    sys.modules.pop(module, None)
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        runpy._run_module_as_main(module, alter_argv=True)  # type: ignore[attr-defined]
    except SystemExit as exc:
        return exit_code(exc)
    except BaseException as exc:  # noqa: BLE001 - reported as Python reports it, exit 1
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # this server's frames: not in a direct run's traceback
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        return 1
    return 0


def run_child(request: dict[str, Any], fds: list[int], keep_closed: list[socket.socket]) -> None:
    """In the forked child: become the request's runner (or module) process, run it, exit
    with its code."""
    code = 70
    try:
        os.setpgid(0, 0)  # its own group: the server can end it and anything it starts
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        for sock in keep_closed:
            sock.close()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(fds[0], 1)
        os.dup2(fds[1], 2)
        for fd in fds:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # A fresh interpreter buffers stdout by line on a terminal, by block elsewhere.
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        if request.get("module"):
            code = run_module(request["module"], request["argv"], request["cwd"])
            return
        argv = [*request["argv"], "--engine", "inprocess"]
        sys.argv = ["compendium.publish.runner", *argv]
        from compendium.publish import runner

        code = runner.main(argv)
    except SystemExit as exc:
        code = exit_code(exc)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Server:
    """The accept loop: requests in, forked children out, exit codes back."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "sock"
        self.path.unlink(missing_ok=True)  # a dead server's (the client holds start.lock)
        self.listener: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(64)
        self.inode = self.path.stat().st_ino
        self.stamp = source_stamp()  # before the imports: an edit made meanwhile counts
        self.children: dict[int, socket.socket | None] = {}  # pid -> its client's connection
        self.stopping = False
        self.last = time.monotonic()

    def stop_listening(self) -> None:
        """No more requests: close the socket, and remove it if it is still this server's."""
        if self.listener is None:
            return
        self.listener.close()
        self.listener = None
        try:
            if self.path.stat().st_ino == self.inode:
                self.path.unlink()
        except FileNotFoundError:
            pass

    def handle(self, conn: socket.socket) -> None:
        # A client sends its request as soon as it connects; one that connects and says
        # nothing (stopped, or not a client) must not hold up every other page of the build.
        conn.settimeout(REQUEST_TIMEOUT_S)
        try:
            request, fds = recv_message(conn, maxfds=2)
        except (TimeoutError, OSError, ValueError):  # silent, gone, or not our protocol
            request, fds = None, []
        conn.settimeout(None)
        if request is None:  # a client that went away before asking
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        if request.get("op") == "stop":
            self.stopping = True
            self.stop_listening()
            send_message(conn, {"status": "stopping"})
            conn.close()
            return
        if self.stopping or len(fds) != 2 or source_stamp() != self.stamp:
            self.stopping = True
            self.stop_listening()
            for fd in fds:
                os.close(fd)
            send_message(conn, {"status": "stale"})
            conn.close()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            others = [c for c in self.children.values() if c is not None]
            run_child(request, fds, [conn, *others, *([self.listener] if self.listener else [])])
        for fd in fds:
            os.close(fd)
        self.children[pid] = conn
        send_message(conn, {"status": "started", "pid": pid})

    def client_gone(self, conn: socket.socket) -> None:
        """A client's connection is readable: it closed (a client sends nothing more), so its
        child is ended at once."""
        try:
            data = conn.recv(1)
        except OSError:
            data = b""
        if data:
            return
        for pid, c in self.children.items():
            if c is conn:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self.children[pid] = None
        conn.close()

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            code = os.waitstatus_to_exitcode(status)
            if conn is not None:
                with contextlib.suppress(OSError):  # a client that has gone
                    send_message(conn, {"exit": code if code >= 0 else 128 - code,
                                        "signal": -code if code < 0 else 0})
                conn.close()
            self.last = time.monotonic()

    def serve(self) -> None:
        self.last = time.monotonic()  # idle from now, not from before the imports
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            if not self.children and not self.stopping and time.monotonic() - self.last > IDLE_S:
                self.stopping = True
            if self.stopping:
                self.stop_listening()
                if not self.children:
                    return
            watched = [c for c in self.children.values() if c is not None]
            if self.listener is not None:
                watched.append(self.listener)
            try:
                ready, _, _ = select.select(watched, [], [], 0.05)
            except InterruptedError:
                ready = []
            for sock in ready:
                if sock is self.listener:
                    conn, _ = sock.accept()
                    self.handle(conn)
                    self.last = time.monotonic()
                elif sock.fileno() >= 0:
                    self.client_gone(sock)
            self.reap()


def write_usage(path: str, *, started: bool = False) -> None:
    """Append one JSON line to ``path``: that this server started, or (at exit) its CPU time
    and its children's."""
    import resource

    row: dict[str, Any] = {"pid": os.getpid()}
    if started:
        row["started"] = True
    else:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        row |= {"user": own.ru_utime + kids.ru_utime, "sys": own.ru_stime + kids.ru_stime,
                "maxrss_kib": max(own.ru_maxrss, kids.ru_maxrss)}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--warm"]:
        preload()
        return 0
    server = Server(Path(argv[0]))
    usage = os.environ.get("COMPENDIUM_SERVER_USAGE")
    if usage:
        write_usage(usage, started=True)
    try:
        preload()
        server.serve()
    finally:
        server.stop_listening()
        if usage:
            write_usage(usage)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
