"""The in-process engine: papermill runs a notebook in an IPython kernel inside this process.

The build's fork server (:mod:`compendium.publish.forkserver`) imports the scientific stack
once and forks one child per notebook; in the child, this engine hands papermill (nbclient) a
kernel manager whose kernel is ipykernel's own in-process kernel. The kernel code is the same
as a Jupyter kernel's (``IPythonKernel``, the same shell, display formatter and message
protocol), so the executed notebook holds the same outputs; what is left out is the second
process, its start and its sockets. The fresh namespace comes from the fork: each child starts
from the server's state, never from another notebook's.

Only builds use it; ``make lab`` and ``ENGINE=kernel`` use a Jupyter kernel.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ipykernel.inprocess.blocking import BlockingInProcessKernelClient
from ipykernel.inprocess.ipkernel import InProcessKernel
from ipykernel.inprocess.manager import InProcessKernelManager
from traitlets.config import Config

__all__ = ["InProcessClient", "InProcessManager", "StreamsKernel", "in_directory", "new_manager"]


class InProcessClient(BlockingInProcessKernelClient):
    """ipykernel's blocking in-process client, with the ``wait_for_ready(timeout)`` nbclient
    calls (the kernel lives in this process: it is ready once it exists)."""

    def wait_for_ready(self, timeout: float | None = None) -> None:
        if self.kernel is None:
            raise RuntimeError("the in-process kernel has not been started")


class StreamsKernel(InProcessKernel):
    """ipykernel's in-process kernel whose ``print`` and warnings reach the notebook.

    A request's outputs are matched to it by their parent header. The shell hands the header
    to ``sys.stdout``/``sys.stderr`` before the request runs, when in this process they are
    still the real streams (the kernel's own are swapped in only while the code runs), so
    stream messages went out with no parent and nbclient dropped them (ipykernel 7.4). Here
    the kernel's streams get the header too, as a Jupyter kernel's always-installed ones do.
    """

    def set_parent(self, ident: Any, parent: Any, channel: str = "shell") -> None:
        super().set_parent(ident, parent, channel)
        if channel == "shell":
            for stream in (self.stdout, self.stderr):
                stream.set_parent(parent)


class InProcessManager(InProcessKernelManager):
    """ipykernel's in-process kernel manager, handing out :class:`InProcessClient`."""

    def client(self, **kwargs: Any) -> InProcessClient:
        kwargs["kernel"] = self.kernel
        kwargs.setdefault("parent", self)
        kwargs.setdefault("session", self.session)
        return InProcessClient(**kwargs)

    def start_kernel(self, **kwds: Any) -> None:
        # A Jupyter kernel has the folder it was started in on its path (ipykernel's
        # IPKernelApp inserts '' at the front), so a notebook imports what lies beside it.
        if "" not in sys.path:
            sys.path.insert(0, "")
        self.kernel = StreamsKernel(parent=self, session=self.session)

    def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        super().shutdown_kernel()

    def cleanup_resources(self, restart: bool = False) -> None:
        """Nothing to clean: no connection file, no sockets."""


def new_manager() -> InProcessManager:
    """A manager for one notebook's in-process kernel.

    History goes to memory, as nbclient asks of a Jupyter kernel
    (``--HistoryManager.hist_file=:memory:``): nothing written under the home folder, no
    history thread.
    """
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    return InProcessManager(config=config)


@contextmanager
def in_directory(path: str) -> Iterator[None]:
    """Run the block with ``path`` as the working folder (a Jupyter kernel is started in the
    notebook's folder; an in-process kernel shares this process's)."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
