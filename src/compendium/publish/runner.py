"""The runner Make calls: execute one notebook with papermill and publish it as HTML.

``python -m compendium.publish.runner 01_ops_survey [-p name value ...]``

In one Python process: read ``params/<name>.yaml``, apply command-line overrides (with
``--params-from-env``, those of ``$PARAMS`` that name this notebook's parameters; Make has
checked them against every notebook of the run first, see :mod:`compendium.publish.preflight`),
validate them against the notebook's declared schema, execute ``notebooks/<name>.ipynb`` with
the project's kernel into a staging folder of this run's own, strip run-specific metadata
(times, paths), render the HTML page, and only then move everything into ``outputs/`` under a
per-notebook lock. A failure prints one screen (notebook, cell, error) and leaves the previous
outputs untouched; success prints how long the notebook took.
"""

from __future__ import annotations

import sys

# jsonschema (via nbformat) imports the optional IRI checker rfc3987_syntax, which builds a
# grammar at import time (~2 s per process; python-jsonschema/jsonschema#1392, #1521).
# Notebook validation never checks IRIs, so this process declines the optional import.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import argparse
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from compendium.artifacts import atomic_write_text
from compendium.errors import CompendiumError, ParameterError
from compendium.publish import params as param_schemas
from compendium.publish.confidential import mark_confidential
from compendium.publish.language import LANGUAGES, messages
from compendium.publish.provenance import is_synthetic

if TYPE_CHECKING:  # imported where used: the kernel starts before this process needs it
    import nbformat

KERNEL = "compendium"
RUN_LOCK = ".run.lock"  # held by a live run in its staging folder
TEMPLATES = Path(__file__).parent / "templates"
RUN_KEYS = ("start_time", "end_time", "duration", "input_path", "output_path",
            "environment_variables", "exception")


@dataclass(frozen=True)
class Page:
    """One notebook of the compendium as the site lists it."""

    stem: str
    title: str
    summary: str

    @property
    def href(self) -> str:
        return f"{self.stem}.html"


def list_pages(notebooks_dir: Path, lang: str = "en") -> list[Page]:
    """Every notebook in ``notebooks_dir``, in file-name order, with title and summary in
    ``lang`` (the markdown cells tagged for that language)."""
    import nbformat

    from compendium.publish.language import keep_language

    pages = []
    for path in sorted(notebooks_dir.glob("[0-9]*.ipynb")):
        nb = keep_language(nbformat.read(path, as_version=4), lang)
        title = path.stem
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
                if m:
                    title = m.group(1).strip()
                    break
        meta = nb.metadata.get("compendium", {})
        summary = (meta.get("summary_pl") if lang == "pl" else None) or meta.get("summary", "")
        pages.append(Page(path.stem, title, summary))
    return pages


def load_parameters(params_file: Path, overrides: list[tuple[str, str]]) -> dict[str, Any]:
    """Parameters from the YAML file, then ``-p name value`` overrides (values parsed as YAML)."""
    values: dict[str, Any] = {}
    if params_file.exists():
        try:
            values = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ParameterError(str(params_file), f"not valid YAML: {exc}") from None
        if not isinstance(values, dict):
            raise ParameterError(str(params_file), "must hold a mapping of name: value")
    for name, raw in overrides:
        try:
            values[name] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ParameterError(name, f"override {raw!r} is not valid YAML: {exc}") from None
    return values


def clean_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove times, durations and absolute paths that papermill and the kernel record."""
    pm = nb.metadata.get("papermill", {})
    for key in RUN_KEYS:
        pm.pop(key, None)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill draws a random id
        cell.metadata.pop("execution", None)
        cpm = cell.metadata.get("papermill")
        if cpm is not None:
            for key in RUN_KEYS:
                cpm.pop(key, None)
            if not cpm:
                cell.metadata.pop("papermill")
    return nb


def add_toc(body: str, lang: str = "en") -> str:
    """Insert a table of contents built from the page's h2/h3 headings at the placeholder."""
    items = []
    for level, anchor, text in re.findall(r'<h([23]) id="([^"]+)"[^>]*>(.*?)<', body):
        if anchor.startswith(("Colophon", "Kolofon")):
            continue
        cls = "" if level == "2" else ' class="sub"'
        items.append(f'<li{cls}><a href="#{anchor}">{text}</a></li>')
    toc = ""
    if items:
        word = messages(lang)["page"]["contents"]
        toc = (f'<nav class="compendium-toc" aria-label="{word}"><strong>{word}</strong><ul>'
               + "".join(items) + "</ul></nav>")
    return body.replace("<!--COMPENDIUM-TOC-->", toc, 1)


def make_exporter() -> Any:
    """nbconvert's HTML exporter with the compendium template (navigation, banner, colophon)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="compendium", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input_prompt = False
    return exporter


def warm_exporter() -> Any:
    """An exporter that has rendered a two-cell notebook: its templates are compiled and the
    code highlighter loaded, so the real page costs only its own rendering."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    exporter = make_exporter()
    cell = new_code_cell("x = 1\nx", execution_count=1,
                         outputs=[new_output("execute_result", {"text/plain": "1"},
                                             execution_count=1)])
    nb = new_notebook(cells=[new_markdown_cell("# Warm-up\n\n## Part"), cell],
                      metadata={"language_info": {"name": "python",
                                                  "pygments_lexer": "ipython3"}})
    render_html(nb, Page("warm-up", "Warm-up", ""), [], synthetic=True, exporter=exporter)
    return exporter


def render_html(
    nb: nbformat.NotebookNode, page: Page, pages: list[Page], *, synthetic: bool,
    hide_code: bool = False, exporter: Any = None, lang: str = "en",
) -> str:
    """The HTML page of an executed notebook, with navigation, banner and contents."""
    exporter = exporter or make_exporter()
    idx = [p.stem for p in pages].index(page.stem) if page in pages else -1
    resources = {
        "metadata": {"name": page.title},
        "compendium": {
            "stem": page.stem,
            "prev": pages[idx - 1] if idx > 0 else None,
            "next": pages[idx + 1] if 0 <= idx < len(pages) - 1 else None,
            "synthetic": synthetic,
            "hide_code": hide_code,
            "css": (TEMPLATES / "compendium" / "compendium.css").read_text(encoding="utf-8"),
            # the page frame's words per language (message catalogue); the template picks
            # the notebook's run language
            "t": {code: messages(code)["notebook"] for code in LANGUAGES},
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return add_toc(body, lang)


def start_kernel(root: Path) -> Any:
    """Launch the project's kernel in ``root`` without waiting for it to be ready.

    The kernel talks over Unix sockets in a private temporary folder: no TCP ports that two
    notebooks started together by ``make -j`` could both pick, nothing open to the network.
    """
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    sockets = Path(tempfile.mkdtemp(prefix="compendium-kernel-"))
    try:
        # The asynchronous manager, as nbclient's own: with a blocking client nbclient could
        # not notice a kernel that dies in the middle of a cell, and would wait for ever.
        km = AsyncKernelManager(kernel_name=KERNEL, transport="ipc", ip=str(sockets / "ipc"),
                                connection_file=str(sockets / "kernel.json"))
        run_sync(km.start_kernel)(cwd=str(root))
    except BaseException as exc:
        shutil.rmtree(sockets, ignore_errors=True)
        if isinstance(exc, NoSuchKernel):
            raise CompendiumError(
                f"the Jupyter kernel {KERNEL!r} is not registered in this environment "
                f"({sys.prefix}); `make env` registers it"
            ) from None
        raise
    return km


def stop_kernel(km: Any) -> None:
    """Kill the kernel at once (no graceful wait) and remove its sockets folder."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    finally:
        run_sync(km.cleanup_resources)()
        shutil.rmtree(Path(km.connection_file).parent, ignore_errors=True)


def execute(
    source: Path, executed: Path, values: dict[str, Any], *, km: Any, root: Path, failed: Path,
    on_kernel_ready: Callable[[], None] = lambda: None,
) -> nbformat.NotebookNode:
    """Run ``source`` with papermill in the kernel of ``km``; the executed notebook in memory.

    ``on_kernel_ready`` is called once the kernel answers, just before the first cell. On a
    failing cell the executed notebook, traceback included, is copied to ``failed``.
    """
    import papermill
    from nbclient.exceptions import DeadKernelError

    cell: list[int] = []  # the cell being executed, for a kernel that dies

    try:
        return papermill.execute_notebook(
            str(source), str(executed), parameters=values, kernel_name=KERNEL,
            progress_bar=False, cwd=str(root), request_save_on_cell_execute=False, km=km,
            on_notebook_start=lambda **_: on_kernel_ready(),
            on_cell_execute=lambda cell_index, **_: cell.append(cell_index),
        )
    except DeadKernelError:
        where = f"in cell {cell[-1]}" if cell else "before the first cell"
        raise CompendiumError(
            f"notebook {source.stem} stopped: its kernel died {where} (out of memory, or the "
            f"process was killed). Previous outputs of {source.stem} are unchanged."
        ) from None
    except papermill.PapermillExecutionError as exc:
        failed.parent.mkdir(parents=True, exist_ok=True)
        if executed.exists():
            shutil.copyfile(executed, failed)
        shown = failed.relative_to(root) if failed.is_relative_to(root) else failed
        raise CompendiumError(
            f"notebook {source.stem} failed in cell {exc.cell_index} (execution count "
            f"{exc.exec_count}):\n  {exc.ename}: {exc.evalue}\n"
            f"The executed notebook with the full traceback: {shown}\n"
            f"Previous outputs of {source.stem} are unchanged."
        ) from None


def _move_tree(staged: Path, final: Path) -> None:
    """Replace ``final`` by ``staged`` (a folder), keeping the old one until the new is in place."""
    if not staged.exists():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    trash = final.with_name(f".{final.name}.old")
    shutil.rmtree(trash, ignore_errors=True)
    if final.exists():
        final.rename(trash)
    staged.rename(final)
    shutil.rmtree(trash, ignore_errors=True)


def publish_paths(nb: nbformat.NotebookNode, staged: str, final: str) -> nbformat.NotebookNode:
    """The executed notebook with its run's staging folder ``staged`` named as ``final``.

    The staging folder's name is unique per run; the published notebook and page name the
    folder the files are published to, so they are the same bytes on every run.
    """
    import nbformat

    return nbformat.reads(nbformat.writes(nb).replace(staged, final), as_version=4)


@contextmanager
def publish_lock(outputs: Path, stem: str) -> Iterator[None]:
    """Hold an exclusive lock while ``stem``'s outputs are replaced (one publisher at a time)."""
    lock = outputs / ".stamps" / f"{stem}.publish.lock"  # .staging/ stays empty between runs
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def run(
    stem: str, *, root: Path, overrides: list[tuple[str, str]], hide_code: bool = False,
    outputs: Path | None = None, data_dir: Path | None = None, confidential: bool = False,
    engine: str = "kernel",
) -> Path:
    """Execute and publish one notebook; return the HTML path.

    ``data_dir`` (default ROOT/data) is the data folder the notebook reads; ``confidential``
    marks the page as built from real data (:mod:`compendium.publish.confidential`).
    """
    outputs = outputs or root / "outputs"
    source = root / "notebooks" / f"{stem}.ipynb"
    if not source.exists():
        raise ParameterError("notebook", f"no notebook {source}",
                             allowed=[p.stem for p in list_pages(root / "notebooks")])
    values = load_parameters(root / "params" / f"{stem}.yaml", overrides)
    values["output_dir"] = "outputs"
    if data_dir is not None:  # a data folder outside the repository (make all DATA=...)
        values["data_dir"] = str(data_dir)
    schema = param_schemas.SCHEMAS.get(stem)
    if outputs != root / "outputs" and schema is not None and "results_dir" in schema.model_fields:
        # another output tree (real data, the other language): its own earlier results
        values["results_dir"] = str(outputs / "results")
    param_schemas.validate(stem, values)
    # A staging folder of this run's own: two runs never share (or delete) each other's files.
    (outputs / ".staging").mkdir(parents=True, exist_ok=True)
    sweep_staging(outputs / ".staging", stem)
    staging = Path(tempfile.mkdtemp(prefix=f"{stem}-", dir=outputs / ".staging"))
    alive = os.open(staging / RUN_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(alive, fcntl.LOCK_EX)  # "this run is alive"; the kernel drops it on death
        return _run_in(stem, source, values, staging, root=root, outputs=outputs,
                       hide_code=hide_code, data_dir=data_dir, confidential=confidential,
                       engine=engine)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(alive)


def sweep_staging(staging_root: Path, stem: str) -> list[Path]:
    """Remove the staging folders of ``stem`` left by runs that died (killed, power cut).

    A live run holds a lock on its folder's ``.run.lock``; a folder whose lock can be taken
    belongs to no running process. Returns the folders removed.
    """
    removed = []
    for folder in sorted(staging_root.glob(f"{stem}-*")):
        try:
            fd = os.open(folder / RUN_LOCK, os.O_RDWR)  # never created here: a run just
        except OSError:  # starting has not made it yet, and is left alone
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def _run_in(
    stem: str, source: Path, values: dict[str, Any], staging: Path, *, root: Path,
    outputs: Path, hide_code: bool, data_dir: Path | None = None, confidential: bool = False,
    engine: str = "kernel",
) -> Path:
    """Execute ``source`` into ``staging`` (with ``engine``: ``kernel``, a Jupyter kernel of
    its own, or ``inprocess``), then publish it into ``outputs``."""
    in_root = outputs == root / "outputs"
    staged_name = str(Path("outputs") / ".staging" / staging.name) if in_root else str(staging)
    final_name = str(Path("outputs") / ".staging" / stem) if in_root else str(
        outputs / ".staging" / stem)
    values["output_dir"] = staged_name
    executed = staging / f"{stem}.ipynb"
    failed = outputs / "logs" / f"{stem}.failed.ipynb"
    if engine == "inprocess":
        nb, exporter = _execute_inprocess(source, executed, values, root=root, failed=failed)
    else:
        nb, exporter = _execute_in_kernel(source, executed, values, root=root, failed=failed)
    nb = clean_metadata(publish_paths(nb, staged_name, final_name))
    pages = list_pages(root / "notebooks", str(values.get("lang", "en")))
    page = next((p for p in pages if p.stem == stem), Page(stem, stem, ""))
    synthetic = is_synthetic(data_dir or root / "data") and not confidential
    html_text = render_html(nb, page, pages, synthetic=synthetic, hide_code=hide_code,
                            exporter=exporter, lang=str(values.get("lang", "en")))
    if confidential:
        html_text = mark_confidential(html_text, str(values.get("lang", "en")))
    import nbformat

    # Publish: the notebook's own tables, figures and results first, the page last.
    with publish_lock(outputs, stem):
        for kind in ("tables", "figures"):
            _move_tree(staging / kind / stem, outputs / kind / stem)
        for folder in ("results", "disclosure"):  # disclosure/: the notebook's SDC audit
            result = staging / folder / f"{stem}.json"
            if result.exists():
                (outputs / folder).mkdir(parents=True, exist_ok=True)
                result.replace(outputs / folder / f"{stem}.json")
        note_results(outputs, stem)
        atomic_write_text(outputs / "notebooks" / f"{stem}.ipynb", nbformat.writes(nb) + "\n")
        html_path = atomic_write_text(outputs / "html" / f"{stem}.html", html_text)
        failed.unlink(missing_ok=True)
    return html_path


def note_results(outputs: Path, stem: str) -> bool:
    """Rewrite ``outputs/.stamps/<stem>.results`` (the sha256 of ``results/<stem>.json``, what
    another notebook reads) only when it changed; True if rewritten.

    The Makefile makes a notebook that reads another's results depend on this stamp, not on the
    other's page: a re-run whose results came out the same bytes leaves the stamp's time as it
    was, so its dependants do not run again.
    """
    import hashlib

    result = outputs / "results" / f"{stem}.json"
    digest = hashlib.sha256(result.read_bytes()).hexdigest() if result.exists() else "none"
    stamp = outputs / ".stamps" / f"{stem}.results"
    if stamp.exists() and stamp.read_text(encoding="utf-8").strip() == digest:
        return False
    stamp.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, digest + "\n")
    return True


ENGINES = ("kernel", "inprocess")
_warm: list[Any] = []  # an exporter warmed before a fork (compendium.publish.forkserver)


def prepare_exporter() -> None:
    """Warm the HTML exporter now, for every notebook this process (or a fork) runs later."""
    _warm[:] = [warm_exporter()]


def _execute_in_kernel(
    source: Path, executed: Path, values: dict[str, Any], *, root: Path, failed: Path,
) -> tuple[nbformat.NotebookNode, Any]:
    """Execute in a Jupyter kernel of its own (a second process); the exporter warmed meanwhile.

    The kernel boots while this process imports papermill; once it answers, the HTML exporter
    gets ready in a thread while the cells run. The kernel is killed as soon as the last cell
    has replied (every output has arrived by then), not waited for.
    """
    km = start_kernel(root)
    with ThreadPoolExecutor(max_workers=1) as pool:
        warm: list[Future[Any]] = []
        try:
            nb = execute(source, executed, values, km=km, root=root, failed=failed,
                         on_kernel_ready=lambda: warm.append(pool.submit(warm_exporter)))
        finally:
            stop_kernel(km)
        return nb, (warm[0].result() if warm else None)


def _execute_inprocess(
    source: Path, executed: Path, values: dict[str, Any], *, root: Path, failed: Path,
) -> tuple[nbformat.NotebookNode, Any]:
    """Execute in an IPython kernel inside this process (:mod:`compendium.publish.engine`)."""
    from compendium.publish import engine

    km = engine.new_manager()
    try:
        with engine.in_directory(str(root)):
            nb = execute(source, executed, values, km=km, root=root, failed=failed)
    finally:
        if km.has_kernel:
            km.shutdown_kernel()
    return nb, (_warm[0] if _warm else None)


def env_overrides(stem: str) -> list[tuple[str, str]]:
    """The overrides of the ``PARAMS`` environment variable that name ``stem``'s parameters."""
    pairs = param_schemas.split_overrides(os.environ.get("PARAMS", ""))
    known = param_schemas.schema_for(stem).model_fields
    return [(name, raw) for name, raw in pairs if name in known]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.publish.runner", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebook", help="notebook file stem, e.g. 01_ops_survey")
    ap.add_argument("-p", "--param", nargs=2, action="append", default=[],
                    metavar=("NAME", "VALUE"), help="override one parameter (VALUE is YAML)")
    ap.add_argument("--params-from-env", action="store_true",
                    help="also apply the overrides in $PARAMS that name this notebook's "
                         "parameters (split with shlex, never evaluated by a shell)")
    ap.add_argument("--root", default=".", help="project folder")
    ap.add_argument("--outputs", default=None, help="output folder (default ROOT/outputs)")
    ap.add_argument("--hide-code", action="store_true", help="publish pages without code cells")
    ap.add_argument("--data", default=None, help="data folder (default ROOT/data)")
    ap.add_argument("--confidential", action="store_true",
                    help="mark the page as built from real, confidential data")
    ap.add_argument("--engine", choices=ENGINES, default="kernel",
                    help="kernel: a Jupyter kernel of its own (default); inprocess: an IPython "
                         "kernel in this process (what the build's fork server uses)")
    args = ap.parse_args(argv)
    root = Path(args.root)
    outputs = Path(args.outputs) if args.outputs else None
    stem = args.notebook
    print(f"[compendium] running {stem}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        overrides = env_overrides(stem) if args.params_from_env else []
        html_path = run(stem, root=root, overrides=overrides + [tuple(p) for p in args.param],
                        hide_code=args.hide_code, outputs=outputs,
                        data_dir=Path(args.data) if args.data else None,
                        confidential=args.confidential, engine=args.engine)
    except CompendiumError as exc:
        print(f"\n*** {stem}: {exc}\n", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"\n*** {stem}: cannot write {exc.filename}: permission denied; the build "
              f"writes under outputs/ (make it writable, or build in a copy)\n", file=sys.stderr)
        return 2
    print(f"[compendium] published {html_path} in {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    if "--engine" not in sys.argv or "kernel" in sys.argv:  # the default engine: kernel
        # papermill imports pyarrow (0.13 s) only for its HDFS handler, which this process
        # never uses. The runtime lock no longer installs pyarrow, but an environment that
        # still has it (an older .venv, a conda env) should not pay for it here. Only when
        # this process is the runner itself: not with the in-process engine (the notebook's
        # libraries share the process), and not for a caller of main() (a test), whose later
        # imports of pyarrow (scikit-learn's checks) it would break.
        sys.modules.setdefault("pyarrow", None)  # type: ignore[arg-type]
    raise SystemExit(main())

