"""What Make calls for a page: hand the run to the build's fork server, start it if needed.

``python -m compendium.publish.client 01_ops_survey [runner options ...]``

The same arguments as :mod:`compendium.publish.runner`. This module imports only the standard
library (a start costs ~30 ms): it connects to the server of this project, Python and
environment (:func:`server_folder`), sends the arguments, working folder and environment
with its standard output and error (the notebook's messages go where Make sends this
process's), and exits with the run's exit code. No server there: it starts one (detached,
:mod:`compendium.publish.forkserver`) and waits for it. A server started from older package
sources answers ``stale`` and exits; the client then starts a fresh one. If no server can be
had, the runner runs here, as before (one line says so).

``python -m compendium.publish.client --module MODULE [--root ROOT] -- [ARGS ...]`` runs any
module's main the same way, as ``python -m MODULE ARGS`` would (the build's data check and site
steps): a child of the server runs the module as ``__main__`` with ``ARGS``, this process's
streams, working folder and environment, and this process exits with its exit code. Without a
server it becomes ``python -m MODULE ARGS`` (exec). ``--root`` names the project whose server
to use (default: the working folder).

Killing this process (Ctrl-C of make) kills the notebook's process: the server watches the
connection and ends the child when it closes. ``--stop`` asks the server to stop once its
running notebooks are done (the site step calls it at the end of a build).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Variables read while the server imports the stack (so fixed for its children): a request
# with other values goes to another server.
IMPORT_ENV_PREFIXES = ("PYTHON", "OMP_", "OPENBLAS_", "MKL_", "MPL", "LC_", "LANG", "TZ",
                       "VIRTUAL_ENV", "PYDEVD_", "SOURCE_DATE_EPOCH", "HOME")
START_TIMEOUT_S = 30.0  # for the server to listen (it listens before importing the stack)
ATTEMPTS = 3


def import_env(env: dict[str, str]) -> dict[str, str]:
    """The part of ``env`` a server's imports depend on."""
    return {k: v for k, v in sorted(env.items()) if k.startswith(IMPORT_ENV_PREFIXES)}


def server_folder(root: Path, env: dict[str, str] | None = None) -> Path:
    """The private folder (mode 700) of the server for ``root``, this Python and ``env``.

    Under the temporary folder, one per user (``compendium-<uid>``), named by a hash: a Unix
    socket's path must stay short (108 bytes), whatever the project's path.
    """
    env = dict(os.environ) if env is None else env
    key = json.dumps([os.path.realpath(sys.executable), str(root.resolve()), import_env(env)])
    base = Path(tempfile.gettempdir()) / f"compendium-{os.getuid()}"
    folder = base / hashlib.sha256(key.encode()).hexdigest()[:16]
    for path in (base, folder):
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.lstat()
        if st.st_uid != os.getuid() or st.st_mode & 0o077 or not path.is_dir():
            raise PermissionError(f"{path} is not a private folder of this user")
    return folder


def send_message(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:  # type: ignore[assignment]
    """One length-prefixed JSON message, with ``fds`` attached."""
    data = json.dumps(message).encode()
    payload = struct.pack("!I", len(data)) + data
    sent = socket.send_fds(sock, [payload], list(fds)) if fds else sock.send(payload)
    if sent < len(payload):
        sock.sendall(payload[sent:])


def recv_message(sock: socket.socket, maxfds: int = 0) -> tuple[dict | None, list[int]]:
    """One message (None when the other side closed) and the fds that came with it."""
    if maxfds:
        data, fds, _flags, _addr = socket.recv_fds(sock, 65536, maxfds)
    else:
        data, fds = sock.recv(65536), []
    while len(data) < 4 or len(data) < 4 + struct.unpack("!I", data[:4])[0]:
        more = sock.recv(65536) if data else b""
        if not more:
            for fd in fds:
                os.close(fd)
            return None, []
        data += more
    size = struct.unpack("!I", data[:4])[0]
    return json.loads(data[4:4 + size]), fds


def connect(folder: Path) -> socket.socket | None:
    """A connection to the server listening in ``folder``, or None."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(folder / "sock"))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    return sock


def start_server(folder: Path, root: Path) -> socket.socket:
    """Start a server in ``folder`` (one client at a time does) and connect to it."""
    with open(folder / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sock = connect(folder)  # another client may have started it meanwhile
        if sock is not None:
            return sock
        with open(folder / "server.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "compendium.publish.forkserver", str(folder)],
                cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True, close_fds=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            sock = connect(folder)
            if sock is not None:
                return sock
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        raise OSError(f"the build server did not start (see {folder / 'server.log'})")


def run_remote(argv: list[str], root: Path, module: str | None = None) -> int | None:
    """Run the runner (or ``module``'s main) with ``argv`` in a child of the server; its exit
    code (None: no server)."""
    folder = server_folder(root)
    request: dict = {"op": "run", "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    if module is not None:
        request["module"] = module
    for _ in range(ATTEMPTS):
        sock = connect(folder) or start_server(folder, root)
        with sock:
            try:
                send_message(sock, request, [1, 2])
                reply, _ = recv_message(sock)
            except (ConnectionResetError, BrokenPipeError):
                reply = None  # a server that stopped listening before it read the request
            if reply is None or reply.get("status") == "stale":
                continue  # a server from older sources, or one that was stopping: a new one
            done, _ = recv_message(sock)  # the run started: its exit code, when it ends
            what = module or (argv[0] if argv else "?")
            if done is None:
                print(f"\n*** the build server ended while running {what} (see "
                      f"{folder / 'server.log'})\n", file=sys.stderr)
                return 2
            if done.get("signal") and module is not None:
                print(f"\n*** python -m {module} stopped: its process was killed (signal "
                      f"{done['signal']}: out of memory, or the process was killed).\n",
                      file=sys.stderr)
            elif done.get("signal"):  # the child died without a word (out of memory, killed)
                stem = what
                print(f"\n*** {stem}: notebook {stem} stopped: its process was killed "
                      f"(signal {done['signal']}: out of memory, or the process was killed). "
                      f"Previous outputs of {stem} are unchanged.\n", file=sys.stderr)
            return int(done["exit"])
    return None


def stop(root: Path) -> bool:
    """Ask the server of ``root`` (if any) to stop once its running notebooks are done."""
    sock = connect(server_folder(root))
    if sock is None:
        return False
    with sock:
        send_message(sock, {"op": "stop"})
        recv_message(sock)
    return True


def _root(argv: list[str]) -> Path:
    return Path(argv[argv.index("--root") + 1]) if "--root" in argv[:-1] else Path(".")


def module_request(argv: list[str]) -> tuple[str, Path, list[str]]:
    """``--module MODULE [--root ROOT] [-- ARGS ...]``: the module, the project's root and the
    module's arguments (everything after ``--``, untouched)."""
    head, args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [])
    if len(head) % 2:
        head = []  # an option without its value: the usage below
    options = dict(zip(head[0::2], head[1::2], strict=True))
    if not set(options) <= {"--module", "--root"} or not options.get("--module"):
        raise SystemExit("usage: python -m compendium.publish.client --module MODULE "
                         "[--root ROOT] -- [ARGS ...]")
    return options["--module"], Path(options.get("--root", ".")), args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--stop"]:
        stop(_root(argv))
        return 0
    if argv[:1] == ["--module"]:
        module, root, args = module_request(argv)
        command = [sys.executable, "-m", module, *args]
    else:
        module, root, args = None, _root(argv), argv
        command = [sys.executable, "-m", "compendium.publish.runner", *argv]
    try:
        code = run_remote(args, root, module)
    except OSError as exc:
        print(f"[compendium] no build server ({exc}): running here", file=sys.stderr)
        code = None
    if code is None:
        sys.stdout.flush()
        os.execv(sys.executable, command)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
