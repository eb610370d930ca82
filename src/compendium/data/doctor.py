"""Check a folder of exports before a run: every declared source at once, nothing written.

``python -m compendium.data.doctor DIR`` (``make doctor DATA=DIR``) prints one line per file
declared in :mod:`compendium.data.sources` (plus the data-set marker)::

    [found]    ops_survey/cawi    raw/ops_survey/cawi_limesurvey.csv | LimeSurvey CsvWriter ...
    [missing]  four_cities/codes  raw/four_cities/dedoose_codes.xlsx -> export the code tree ...

with the producer it detected (LimeSurvey vs Excel by encoding, byte-order mark and header
shape; Dedoose by its fixed columns and the workbook's writing application; a REFI-QDA
project by ``Project/@origin``) and, when something is wrong, what to do. Then the checks
across files (the four-city Dedoose and REFI-QDA copies must hold the same documents; no
respondent in both survey files). Unlike the data check it does not stop at the first
error: every reader's :class:`~compendium.errors.DataError` is caught and reported.
Exit status 1 when a run would fail (a required file missing, malformed or from a foreign
producer, or a cross-file disagreement), 0 otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

from compendium.data import textio
from compendium.data.sources import MARKER, RAW_FILES, RawFile
from compendium.errors import CompendiumError

FOUND, MISSING, MALFORMED, FOREIGN = "found", "missing", "malformed", "foreign"
#: REFI-QDA producers whose ``Project/@origin`` the reader's offset conventions cover.
QDPX_PRODUCERS = ("ATLAS.ti", "MAXQDA", "QualCoder", "Quirkos", "Transana", "compendium.qdpx")
#: What to do when a file of this role is missing or wrong.
ADVICE = {
    "cawi": "export the responses from LimeSurvey as CSV (UTF-8, ';', question codes as "
            "headers, answer codes, all responses)",
    "papi": "save the keyed-in questionnaires from Excel as 'CSV (separated by semicolons)' "
            "(Windows-1250)",
    "codebook": "restore codebooks/ops_survey.yaml from the repository's data/codebooks/",
    "excerpts": "export the excerpts from Dedoose (Excerpts > Export > Excel, all codes, "
                "all coders)",
    "codes": "export the code tree from Dedoose (Codes > Export > Excel)",
    "qdpx": "export the project as REFI-QDA (.qdpx) from the QDA program (optional)",
    "labels": "restore the labels file from the repository's data/codebooks/",
    "marker": "write raw/dataset.yaml with 'kind: real' (see data/README.md)",
}


@dataclass(frozen=True)
class Finding:
    """One line of the report: a file (or a cross-file check), its status and what to do."""

    name: str
    path: str
    status: str
    producer: str = ""
    detail: str = ""
    advice: str = ""
    required: bool = True

    @property
    def fails(self) -> bool:
        """Would a run fail because of this line?"""
        if self.status == MISSING:
            return self.required
        return self.status in (MALFORMED, FOREIGN)

    def line(self) -> str:
        """The printed line."""
        status = self.status if self.required or self.status != MISSING else "missing (optional)"
        parts = [f"[{status}]".ljust(21), self.name.ljust(28), self.path]
        tail = [t for t in (self.producer, self.detail) if t]
        if tail:
            parts.append(" | " + "; ".join(tail))
        if self.advice and self.status != FOUND:
            parts.append(f" -> {self.advice}")
        return " ".join(parts[:3]) + "".join(parts[3:])


# --- producers ---------------------------------------------------------------------------
def csv_producer(path: Path) -> tuple[str, str]:
    """(producer, problem) of a survey CSV from its encoding, BOM and header shape."""
    data = path.read_bytes()
    enc = textio.sniff_encoding(data)
    text = data.decode("utf-8-sig" if enc.startswith("utf") or enc == "ascii" else "cp1250",
                       errors="replace")
    header = text.splitlines()[0] if text else ""
    sep = max((";", ",", "\t"), key=header.count)
    names = [h.strip().strip('"') for h in header.split(sep)]
    quoted = header.startswith('"')
    lime = {"id", "submitdate", "lastpage"} <= {n.lower() for n in names}
    long_names = sum(len(n) > 40 or " " in n.strip() and "?" in n for n in names)
    sep_name = {";": "';'", ",": "','", "\t": "tab"}[sep]
    if data.startswith(textio.BOM.encode("utf-8")) and (lime or quoted):
        producer = f"LimeSurvey CsvWriter (UTF-8 with BOM, {sep_name}"
        producer += ", question texts as headers)" if long_names else ", question codes)"
        problem = "headers are question texts" if long_names else ""
        if sep != ";":
            problem = f"separator {sep_name}, expected ';'"
        return producer, problem
    if enc == "cp1250" or (enc == "ascii" and not quoted):
        return f"Excel CSV (Windows-1250, {sep_name})", (
            "" if sep == ";" else f"separator {sep_name}, expected ';'")
    return f"CSV ({textio.encoding_name(enc)}, {sep_name}, no BOM)", ""


def xlsx_producer(path: Path) -> tuple[str, list[str]]:
    """(writing application and version, header row of the first sheet) of a workbook."""
    if not zipfile.is_zipfile(path):
        raise _NotFormat("not an .xlsx workbook (not a zip archive)")
    with zipfile.ZipFile(path) as zf:
        app = ""
        if "docProps/app.xml" in zf.namelist():
            root = ET.fromstring(zf.read("docProps/app.xml"))
            vals = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root}
            app = " ".join(v for v in (vals.get("Application"), vals.get("AppVersion")) if v)
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = wb.worksheets[0].iter_rows(min_row=1, max_row=1, values_only=True)
        header = [str(v) for v in next(rows, ()) if v is not None]
    finally:
        wb.close()
    return app, header


def qdpx_origin(path: Path) -> tuple[str, str]:
    """``Project/@origin`` of a REFI-QDA project ("" when absent) and the QDA-XML version
    of its namespace (``urn:QDA-XML:project:1.0`` gives "1.0")."""
    if not zipfile.is_zipfile(path):
        raise _NotFormat("not a REFI-QDA project (not a zip archive)")
    with zipfile.ZipFile(path) as zf:
        qde = [n for n in zf.namelist() if n.lower() == "project.qde"]
        if not qde:
            raise _NotFormat("the zip holds no project.qde")
        for _event, elem in ET.iterparse(zf.open(qde[0]), events=("start",)):
            ns = elem.tag[1:].split("}", 1)[0] if elem.tag.startswith("{") else ""
            return elem.get("origin", ""), ns.rsplit(":", 1)[-1] if ns else "?"
    return "", "?"


def producer_aware_qdpx() -> bool:
    """Does the REFI-QDA reader choose the offset convention by producer (and so read
    NVivo's UTF-16 offsets)? Then no producer is foreign to it."""
    from compendium.data import qdpx

    return hasattr(qdpx, "read_qdpx_report")


class _NotFormat(Exception):
    """The file is not of the expected format at all."""


# --- one file ------------------------------------------------------------------------------
def _producer(f: RawFile, path: Path) -> tuple[str, str]:
    """(producer description, foreign-producer problem or "") of one declared file."""
    if f.role in ("cawi", "papi"):
        producer, problem = csv_producer(path)
        want = "LimeSurvey" if f.role == "cawi" else "Excel"
        if not producer.startswith(want):
            problem = f"expected a {want} export"
        return producer, problem
    if f.role in ("excerpts", "codes"):
        from compendium.data.dedoose import CODES_COLUMNS, FIXED_COLUMNS

        app, header = xlsx_producer(path)
        fixed = FIXED_COLUMNS if f.role == "excerpts" else CODES_COLUMNS
        lacking = [c for c in fixed if c not in header]
        what = "excerpt" if f.role == "excerpts" else "codes"
        made = f" (workbook written by {app})" if app else ""
        if lacking:
            return (f"not a Dedoose {what} export{made}",
                    f"lacks the fixed Dedoose column(s) {lacking}")
        return f"Dedoose {what} export{made}", ""
    if f.role == "qdpx":
        origin, version = qdpx_origin(path)
        what = f"REFI-QDA project (QDA-XML {version})"
        if not origin:
            return f"{what}, no Project/@origin", ""
        if origin.startswith("NVivo") and not producer_aware_qdpx():
            return (f"{what} from {origin}",
                    "NVivo counts offsets in UTF-16 units with CRLF as two; "
                    "the reader counts characters")
        known = any(origin.startswith(p) for p in QDPX_PRODUCERS)
        return f"{what} from {origin}" + ("" if known else " (unknown producer)"), ""
    return "YAML", ""


def read_role(role: str, files: dict[str, Path]) -> Any:
    """Read one file of a source with the data check's reader for its role."""
    from compendium.data.codebook import load_codebook

    path = files[role]
    if role == "codebook":
        return load_codebook(path)
    if role == "labels":
        from compendium.data.labels import load_labels

        return load_labels(path)
    if role in ("codes", "excerpts"):
        from compendium.data.dedoose import read_dedoose, read_dedoose_codes

        return read_dedoose_codes(path) if role == "codes" else read_dedoose(path, files["codes"])
    if role == "qdpx":
        from compendium.data import qdpx

        return qdpx.read_qdpx(path)
    if role in ("cawi", "papi"):
        from compendium.data.survey import read_cawi, read_papi

        reader = {"cawi": read_cawi, "papi": read_papi}[role]
        return reader(path, load_codebook(files["codebook"]))
    # a role declared later: its declared reader, called with the file alone
    declared = next(f.reader for f in RAW_FILES if f.role == role and Path(f.path).name
                    == path.name)
    module, _, func = declared.rpartition(".")
    return getattr(importlib.import_module(module), func)(path)


def check_file(f: RawFile, data_dir: Path, results: dict[str, Any],
               status_of: dict[str, str]) -> Finding:
    """Status, producer and advice of one declared file; its reader's result into ``results``.

    A file whose prerequisite (the survey codebook for the CSVs, the codes export for the
    excerpts) is broken is reported as not checked rather than blamed.
    """
    path = data_dir / f.path
    name = f"{f.source}/{f.role}"
    advice = ADVICE.get(f.role, "")
    if not path.is_file():
        return Finding(name, f.path, MISSING, advice=advice, required=f.required)
    try:
        producer, foreign = _producer(f, path)
    except (_NotFormat, zipfile.BadZipFile, ET.ParseError, OSError, KeyError) as exc:
        return Finding(name, f.path, MALFORMED, detail=str(exc), advice=advice,
                       required=f.required)
    if foreign:
        return Finding(name, f.path, FOREIGN, producer, foreign, advice, f.required)
    prereq = {"cawi": "codebook", "papi": "codebook", "excerpts": "codes"}.get(f.role)
    if prereq and status_of.get(f"{f.source}/{prereq}") != FOUND:
        return Finding(name, f.path, MALFORMED, producer,
                       f"not checked: {f.source}/{prereq} is not usable",
                       f"fix {f.source}/{prereq} first", f.required)
    files = {r.role: data_dir / r.path for r in RAW_FILES if r.source == f.source}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[name] = read_role(f.role, files)
    except (CompendiumError, FileNotFoundError, ValueError, KeyError) as exc:
        return Finding(name, f.path, MALFORMED, producer, str(exc), advice, f.required)
    notes = [_summary(results[name])] + [f"warning: {w.message}" for w in caught]
    return Finding(name, f.path, FOUND, producer, "; ".join(n for n in notes if n),
                   required=f.required)


def _summary(result: Any) -> str:
    """A short description of what a reader returned."""
    if hasattr(result, "documents") and hasattr(result, "segments"):
        return f"{len(result.documents)} documents, {len(result.segments)} segments"
    if hasattr(result, "shape") and hasattr(result, "columns"):
        return f"{len(result)} rows"
    return ""


def check_marker(data_dir: Path) -> Finding:
    """The data-set marker: present, YAML, with ``kind`` synthetic or real."""
    path = data_dir / MARKER
    if not path.is_file():
        return Finding("dataset/marker", MARKER, MISSING, advice=ADVICE["marker"])
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return Finding("dataset/marker", MARKER, MALFORMED, detail=str(exc).splitlines()[0],
                       advice=ADVICE["marker"])
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind not in ("synthetic", "real"):
        return Finding("dataset/marker", MARKER, MALFORMED,
                       detail=f"kind is {kind!r}, expected 'synthetic' or 'real'",
                       advice=ADVICE["marker"])
    gen = doc.get("generator", "")
    return Finding("dataset/marker", MARKER, FOUND, f"{kind} data" + (f" ({gen})" if gen else ""))


# --- across files ------------------------------------------------------------------------
def cross_checks(results: dict[str, Any], data_dir: Path) -> list[Finding]:
    """Checks between files that each read well on their own."""
    out: list[Finding] = []
    ded, qd = results.get("four_cities/excerpts"), results.get("four_cities/qdpx")
    if ded is not None and qd is not None:
        a, b = set(ded.documents["doc_id"]), set(qd.documents["doc_id"])
        name, path = "four_cities/dedoose=qdpx", "excerpts vs project.qdpx"
        if a == b:
            out.append(Finding(name, path, FOUND, detail=f"both hold the same {len(a)} documents"))
        else:
            only = sorted(a ^ b)[:3]
            out.append(Finding(
                name, path, MALFORMED,
                detail=f"the four-city Dedoose and REFI-QDA copies disagree: {len(a)} vs "
                       f"{len(b)} documents ({len(a ^ b)} in one copy only, e.g. {only})",
                advice="export both copies from the same state of the project"))
    cawi, papi = results.get("ops_survey/cawi"), results.get("ops_survey/papi")
    if cawi is not None and papi is not None:
        shared = set(cawi["respondent_id"]) & set(papi["respondent_id"])
        name, path = "ops_survey/cawi+papi", "respondent ids"
        if shared:
            out.append(Finding(name, path, MALFORMED,
                               detail=f"{len(shared)} respondent id(s) in both files",
                               advice="each respondent must be in one file only"))
        else:
            out.append(Finding(name, path, FOUND,
                               detail=f"{len(cawi) + len(papi)} respondents, none in both"))
    return out


def diagnose(data_dir: str | Path) -> list[Finding]:
    """Every declared file, the marker and the cross-file checks; reads, never writes."""
    data_dir = Path(data_dir)
    results: dict[str, Any] = {}
    status_of: dict[str, str] = {}
    findings: list[Finding] = []
    order = sorted(RAW_FILES, key=lambda f: f.role not in ("codebook", "codes"))  # stable
    by_name: dict[str, Finding] = {}
    for f in order:
        found = check_file(f, data_dir, results, status_of)
        status_of[found.name] = found.status
        by_name[found.name] = found
    findings = [by_name[f"{f.source}/{f.role}"] for f in RAW_FILES]
    findings.append(check_marker(data_dir))
    return findings + cross_checks(results, data_dir)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m compendium.data.doctor",
                                 description="Check a folder of exports before a run.")
    ap.add_argument("data_dir", nargs="?", default="data")
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        print(f"[doctor] {data_dir} is not a folder", file=sys.stderr)
        return 2
    findings = diagnose(data_dir)
    print(f"[doctor] {data_dir}")
    for f in findings:
        print(f.line())
    bad = [f for f in findings if f.fails]
    if bad:
        print(f"[doctor] {len(bad)} problem(s): a run on this folder would fail")
        return 1
    print("[doctor] every source found and readable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
