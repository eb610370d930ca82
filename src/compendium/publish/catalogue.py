"""The list of tables and programs, and the CODECHECK manifest, derived from the build.

Every file under ``outputs/tables`` and ``outputs/figures`` is traced back to the code cell
of the executed notebook (``outputs/notebooks/<stem>.ipynb``) that wrote it: the cell whose
``nb.table(df, "<name>", ...)`` or ``nb.figure(fig, "<name>", ...)`` call names it (read
with :mod:`ast`, so a name in a comment or a string does not count), the section (the last
markdown heading above the cell) and the cell's anchor on the notebook's HTML page
(``html/<stem>.html#cell-id=<id>``, written by nbconvert). The catalogue is
``outputs/manifest/tables_and_programs.csv``; :func:`codecheck_manifest` turns it into the
``manifest:`` list of a CODECHECK ``codecheck.yml``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from compendium.artifacts import atomic_write_text
from compendium.data.sources import NOTEBOOK_SOURCES

CATALOGUE = Path("manifest") / "tables_and_programs.csv"
KINDS = ("tables", "figures")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Output:
    """One published table or figure and the program that made it."""

    output_file: str  # relative to the output folder, e.g. tables/01_ops_survey/sample.csv
    notebook: str  # notebooks/<stem>.ipynb
    section: str
    cell: int | str  # index of the code cell among all cells ("" when not traced)
    anchor: str  # html/<stem>.html#cell-id=<id>
    needs_confidential_data: str
    sha256: str


def _named_outputs(source: str) -> list[tuple[str, str]]:
    """``(kind, name)`` of every ``<x>.table(_, "name")`` / ``<x>.figure(_, "name")`` call."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("table", "figure")):
            continue
        arg = node.args[1] if len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "name"), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append(("tables" if node.func.attr == "table" else "figures", arg.value))
    return found


def trace_notebook(path: Path) -> dict[tuple[str, str], tuple[str, int, str]]:
    """``{(kind, name): (section, cell index, cell id)}`` of one executed notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    section = ""
    traced: dict[tuple[str, str], tuple[str, int, str]] = {}
    for i, cell in enumerate(nb.get("cells", [])):
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            heads = _HEADING.findall(source)
            if heads:
                section = heads[-1]
        elif cell.get("cell_type") == "code":
            for key in _named_outputs(source):
                traced.setdefault(key, (section, i, str(cell.get("id", ""))))
    return traced


def needs_confidential(stem: str) -> str:
    """Every output is derived from the raw exports, directly or through other notebooks."""
    if NOTEBOOK_SOURCES.get(stem):
        return "yes"
    return "yes (from the other notebooks' results)"


def catalogue(outputs: Path) -> list[Output]:
    """Every file under ``outputs/tables`` and ``outputs/figures``, traced to its cell."""
    traces: dict[str, dict] = {}
    rows = []
    files = sorted(p for kind in KINDS for p in (outputs / kind).rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    for path in files:
        rel = path.relative_to(outputs)
        kind, stem = rel.parts[0], rel.parts[1] if len(rel.parts) > 2 else ""
        if stem not in traces:
            nb = outputs / "notebooks" / f"{stem}.ipynb"
            traces[stem] = trace_notebook(nb) if nb.is_file() else {}
        # a figure's variants (``name.narrow.png``: the stacked panels for phones) come from
        # the same call as the figure itself
        name = path.stem.split(".", 1)[0]
        section, cell, cell_id = traces[stem].get((kind, name), ("", "", ""))
        rows.append(Output(
            output_file=rel.as_posix(),
            notebook=f"notebooks/{stem}.ipynb",
            section=section,
            cell=cell,
            anchor=f"html/{stem}.html#cell-id={cell_id}" if cell_id else "",
            needs_confidential_data=needs_confidential(stem),
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        ))
    return rows


def to_csv(rows: list[Output]) -> str:
    """The catalogue as CSV (UTF-8, comma, header, ``\\n`` line ends)."""
    buf = io.StringIO()
    fields = list(Output.__dataclass_fields__)
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return buf.getvalue()


def codecheck_manifest(rows: list[Output], prefix: str = "outputs",
                       citation: Path | None = None) -> str:
    """A CODECHECK ``codecheck.yml``: the paper (title and authors from ``CITATION.cff``)
    and a ``manifest:`` naming the tables, PNG figures and the list of tables and programs."""
    manifest = [
        {"file": f"{prefix}/{r.output_file}",
         "comment": f"{r.notebook}, {r.section or 'unsectioned'} (cell {r.cell})"}
        for r in rows if not r.output_file.endswith(".svg")
    ]
    manifest.append({"file": f"{prefix}/{CATALOGUE.as_posix()}",
                     "comment": "the list of tables and programs with their SHA-256 checksums"})
    doc: dict = {"version": "https://codecheck.org.uk/spec/config/1.0/"}
    cff = yaml.safe_load(citation.read_text(encoding="utf-8")) if citation and \
        citation.is_file() else {}
    if cff:
        doc["paper"] = {"title": cff.get("title", ""),
                        "authors": [{"name": a.get("name") or
                                     " ".join(filter(None, (a.get("given-names"),
                                                            a.get("family-names"))))}
                                    for a in cff.get("authors", [])]}
    doc["manifest"] = manifest
    head = ("---\n"
            "# CODECHECK configuration: the outputs a reproducer should compare.\n"
            "# Generated by `make codecheck` (python -m compendium.publish.catalogue codecheck);\n"
            "# checksums: outputs/MANIFEST.sha256 and the list of tables and programs.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


#: The packages whose pinned versions the README names (the rest are in the lock).
KEY_PACKAGES = ("papermill", "nbconvert", "pandas", "numpy", "scipy", "statsmodels",
                "krippendorff", "matplotlib", "seaborn", "pandera")


def requirements_block(lock: Path) -> str:
    """Markdown: the key packages' pins from the lock (``requirements.txt``)."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(encoding="utf-8"), re.M))
    pins = {k.lower(): v for k, v in pins.items()}
    listed = ", ".join(f"{name} {pins[name]}" for name in KEY_PACKAGES if name in pins)
    return (f"Pinned in `requirements.txt` ({len(pins)} packages, every one with `==`); "
            f"the key ones: {listed}.")


def tables_block(rows: list[Output]) -> str:
    """Markdown table: every table and figure (PNG; the SVG twin is beside it) -> program."""
    lines = ["| output | program | section | cell | confidential data |",
             "|---|---|---|---|---|"]
    for r in rows:
        if r.output_file.endswith(".svg"):
            continue
        section = r.section.replace("|", "\\|")
        lines.append(f"| `outputs/{r.output_file}` | `{r.notebook}` | {section} | {r.cell} "
                     f"| {r.needs_confidential_data} |")
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the lines between ``<!-- name:start -->`` and ``<!-- name:end -->``
    replaced by ``body``; ValueError when the markers are missing."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"README has no {start} ... {end} block")
    return text[: i + len(start)] + "\n" + body + "\n" + text[j:]


def refresh_readme(readme: Path, outputs: Path, lock: Path) -> Path:
    """Rewrite the README's generated blocks (packages, list of tables and programs)."""
    text = readme.read_text(encoding="utf-8")
    text = replace_block(text, "requirements", requirements_block(lock))
    text = replace_block(text, "tables-and-programs", tables_block(catalogue(outputs)))
    return atomic_write_text(readme, text)


def write_catalogue(outputs: Path) -> Path:
    """Write ``<outputs>/manifest/tables_and_programs.csv``; return its path."""
    return atomic_write_text(outputs / CATALOGUE, to_csv(catalogue(outputs)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.publish.catalogue",
                                 description="The list of tables and programs; codecheck.yml.")
    ap.add_argument("what", choices=["csv", "codecheck", "readme"])
    ap.add_argument("outputs", nargs="?", default="outputs")
    ap.add_argument("--citation", default="CITATION.cff", help="the paper's CITATION.cff")
    args = ap.parse_args(argv)
    outputs = Path(args.outputs)
    if args.what == "csv":
        print(f"[compendium] published {write_catalogue(outputs)}")
    elif args.what == "readme":
        path = refresh_readme(Path("README.md"), outputs, Path("requirements.txt"))
        print(f"[compendium] refreshed {path}")
    else:
        print(codecheck_manifest(catalogue(outputs), prefix=outputs.as_posix(),
                                 citation=Path(args.citation)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
