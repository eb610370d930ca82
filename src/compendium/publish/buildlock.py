"""One build at a time per project folder: the lock the Makefile takes before any work.

``python3 src/compendium/publish/buildlock.py OUTPUTS MAKE_PID``

Run by the Makefile while it is read (``$(shell ...)``, so before any rule runs), with the
system Python and the standard library only (the environment may not exist yet). It takes an
exclusive ``flock`` on ``OUTPUTS/.build.lock`` (an empty file: outputs stay the same bytes) —
waiting, with one line on stderr, while another build of the same folder holds it — then
leaves a small process that keeps the lock until the ``make`` process ``MAKE_PID`` has ended,
and returns at once.

Prints nothing when the lock is taken; otherwise one line saying why not (for example an
``outputs/`` folder the user cannot write), which the Makefile shows and stops on.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

LOCK_NAME = ".build.lock"
GRACE_S = 1.0  # a build that is just ending releases the lock within this time: no message


def check_writable(outputs: Path) -> str | None:
    """Why the build could not write to ``outputs`` and its folders (None if it can)."""
    if outputs.exists() and not outputs.is_dir():
        return f"{outputs}/ is not a folder: the build writes its results there"
    folder = outputs if outputs.exists() else outputs.parent
    blocked = [folder] if not os.access(folder, os.W_OK | os.X_OK) else []
    if outputs.is_dir():
        blocked += [p for p in sorted(outputs.iterdir())
                    if p.is_dir() and not os.access(p, os.W_OK | os.X_OK)]
    if blocked:
        names = ", ".join(f"{p}/" for p in blocked)
        return (f"cannot write to {names} (permission denied for user id {os.getuid()}): "
                f"the build writes its results under {outputs}/; make it writable "
                f"(chmod u+w) or build in a copy of the project")
    return None


def acquire(lock_path: Path) -> int:
    """An open file descriptor holding an exclusive lock on ``lock_path`` (waits if busy)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + GRACE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    print("[compendium] another build is running in this folder; waiting for it to finish",
          file=sys.stderr, flush=True)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def hold_until_exit(fd: int, pid: int) -> None:
    """Fork a process that keeps ``fd`` (the lock) until process ``pid`` has ended."""
    if os.fork() > 0:
        os.close(fd)  # the child's copy keeps the lock
        return
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):  # make's $(shell) waits for its pipe to close: let go of it
        os.dup2(devnull, std)
    os.closerange(3, fd)
    os.closerange(fd + 1, 1 << 16)
    try:
        pidfd = os.pidfd_open(pid)  # Linux: woken the moment the build ends
    except (AttributeError, OSError):
        pidfd = None
    if pidfd is not None:
        import select

        select.select([pidfd], [], [])
    else:
        while _alive(pid):
            time.sleep(0.05)
    os._exit(0)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: buildlock.py OUTPUTS MAKE_PID")
        return 2
    outputs, pid = Path(argv[0]), int(argv[1])
    problem = check_writable(outputs)
    if problem:
        print(problem)
        return 1
    outputs.mkdir(parents=True, exist_ok=True)
    hold_until_exit(acquire(outputs / LOCK_NAME), pid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
