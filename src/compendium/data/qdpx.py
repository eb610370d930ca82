"""Read REFI-QDA projects (``.qdpx``, QDA-XML 1.0) as a CodedCorpus.

A ``.qdpx`` is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``)
and the plain-text sources under ``sources/`` (some tools write ``Sources/``). The writer
is :mod:`compendium.data.qdpx_writer` (re-exported here); offsets are
:mod:`compendium.data.qdpx_offsets`.

Reading conventions (see :mod:`compendium.data.corpus` for the tables):

* The zip is opened with limits: no member may unpack to more than ``max_member_bytes``
  nor all of them together to more than ``max_total_bytes`` (checked on the declared sizes
  before decompressing, and again while reading); ``project.qde`` must be in the
  QDA-XML project namespace (a codebook ``.qdc`` or another namespace is refused by name).
* Documents are the ``TextSource`` elements in file order; ``doc_id`` and ``title``
  are the source's ``name``. Other source types (PDF, picture, audio, video) are skipped
  and counted in the report.
* A source's text is its ``PlainTextContent`` or the file its ``plainTextPath`` names
  (``internal://<file>`` inside ``sources/``; other schemes are refused), UTF-8 with or
  without a BOM; a NUL character is refused. Texts are kept with ``\n`` line ends.
* Positions are mapped onto that text with the producer's offset convention, chosen from
  ``Project/@origin`` and checked on the data (:func:`~compendium.data.qdpx_offsets.
  choose_convention`): a project whose positions fit no convention is refused, one that
  fits another convention than its producer's is read with a warning.
* Each ``PlainTextSelection`` with ``Coding`` children gives one segment; selections
  without a coding are annotations (counted, not read). Two users selecting one range
  give one segment. The coder is the user named by ``Coding/@creatingUser`` (else
  the selection's ``creatingUser``; a GUID not listed under ``Users`` is kept as is;
  ``unknown`` when neither is given). Selection memos (``Description``, ``NoteRef``),
  ``Notes``, ``Sets``, ``Links`` and ``Graphs`` are not part of the tidy tables: the
  report counts them.
* Codes: the ``CodeBook`` tree (any depth), ``code_id`` the backslash path of names,
  depth-first order. Descriptors: ``VariableValue`` of every ``Case`` go to each source
  the case refers to (MAXQDA and Quirkos use a nameless case per document), and a
  source's own ``VariableValue`` children.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from compendium.data import parsecache
from compendium.data.corpus import CodedCorpus, codes_frame, tidy_corpus
from compendium.data.qdpx_offsets import NoConventionFits, Selection, choose_convention
from compendium.data.qdpx_writer import NS, deterministic_zip, write_qdpx
from compendium.errors import DataError

__all__ = ["NS", "QdpxReport", "deterministic_zip", "read_qdc", "read_qdpx",
           "read_qdpx_report", "write_qdpx"]

#: Largest size one zip member may unpack to, and all members together (bytes).
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 1024 * 2**20
_NS_PREFIX = "urn:QDA-XML:project:1."
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
# what zipfile raises for a damaged archive: bad headers or CRC, broken deflate data, a
# truncated entry, an unknown compression method, an encrypted entry, a bad seek
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
               ValueError, OSError)
_VALUE_TAGS = (
    "TextValue",
    "BooleanValue",
    "IntegerValue",
    "FloatValue",
    "DateValue",
    "DateTimeValue",
)
_IGNORED = ("Notes/Note", "Sets/Set", "Links/Link", "Graphs/Graph")


@dataclass(frozen=True)
class QdpxReport:
    """What reading a project decided and left out (for the data check's lines)."""

    origin: str | None
    producer: str
    convention: str
    checked: bool  # the conventions disagreed on some passage, so the data decided
    warning: str | None
    users: tuple[str, ...]
    annotations: int  # selections without a coding
    selection_memos: int  # Description / NoteRef on coded selections
    ignored: dict[str, int]  # Notes, Sets, Links, Graphs and non-text sources, by kind

    def line(self) -> str:
        """One line for the data check: producer, convention, what was left out."""
        left = {k: v for k, v in self.ignored.items() if v}
        if self.annotations:
            left["annotations"] = self.annotations
        if self.selection_memos:
            left["selection memos"] = self.selection_memos
        out = f"{self.producer}, offsets as {self.convention}"
        out += " (checked on the data)" if self.checked else ""
        out += f", {len(self.users)} users"
        if left:
            out += "; not read: " + ", ".join(f"{v} {k}" for k, v in left.items())
        return out


def read_qdpx(path: str | Path, *, max_member_bytes: int = MAX_MEMBER_BYTES,
              max_total_bytes: int = MAX_TOTAL_BYTES) -> CodedCorpus:
    """Read a REFI-QDA ``.qdpx`` project into a validated CodedCorpus.

    A :class:`UserWarning` says when the positions follow another convention than the
    producer's usual one (see :func:`read_qdpx_report`).
    """
    corpus, report = read_qdpx_report(path, max_member_bytes=max_member_bytes,
                                      max_total_bytes=max_total_bytes)
    if report.warning:
        warnings.warn(f"{path}: {report.warning}", UserWarning, stacklevel=2)
    return corpus


def read_qdpx_report(path: str | Path, *, max_member_bytes: int = MAX_MEMBER_BYTES,
                     max_total_bytes: int = MAX_TOTAL_BYTES) -> tuple[CodedCorpus, QdpxReport]:
    """Read a ``.qdpx`` project; return the corpus and a :class:`QdpxReport`.

    Under a build, the result parsed by the data check is loaded instead (``parsecache``)."""
    return parsecache.cached(
        "compendium.data.qdpx.read_qdpx_report", [path], (max_member_bytes, max_total_bytes),
        lambda: _read_qdpx_report(path, max_member_bytes, max_total_bytes))


def _read_qdpx_report(path: str | Path, max_member_bytes: int,
                      max_total_bytes: int) -> tuple[CodedCorpus, QdpxReport]:
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found", expected="a REFI-QDA project (.qdpx)")
    if not zipfile.is_zipfile(path):
        raise DataError(
            path,
            "not a zip archive",
            expected="a REFI-QDA .qdpx project (a zip holding project.qde)",
        )
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise DataError(path, f"the zip archive is damaged ({exc})",
                        expected="an intact REFI-QDA .qdpx project") from None
    with zf:
        _check_sizes(zf, path, max_member_bytes, max_total_bytes)
        names = zf.namelist()
        qde = [n for n in names if n.lower() == "project.qde"]
        if not qde:
            raise DataError(
                path,
                "the zip holds no project.qde",
                expected="a REFI-QDA .qdpx project (project.qde at the top of the zip)",
                found=names[:5],
            )
        root = _parse_qde(_read_member(zf, qde[0], path, max_member_bytes), path)
        users = {u.get("guid"): u.get("name") or u.get("guid") for u in _find(root, "Users/User")}
        codes, code_by_guid = _codebook(root, path)
        variables = {v.get("guid"): v.get("name") for v in _find(root, "Variables/Variable")}
        sources = _text_sources(root, zf, path, max_member_bytes)

    doc_ids = [s["name"] for s in sources]
    by_guid = {s["guid"]: s for s in sources}
    attrs: dict[tuple[str, str], str] = {}
    for src in sources:
        for var, value in _variable_values(src["elem"], variables, path):
            _put_attr(attrs, src["name"], var, value, path)
    for case in _find(root, "Cases/Case"):
        values = _variable_values(case, variables, path)
        for ref in _kids(case, "SourceRef"):
            src = by_guid.get(ref.get("targetGUID"))
            if src is None:
                continue
            for var, value in values:
                _put_attr(attrs, src["name"], var, value, path)
    attributes = pd.DataFrame(
        {
            "doc_id": [k[0] for k in attrs],
            "attribute": [k[1] for k in attrs],
            "value": list(attrs.values()),
        },
        dtype=object,
    )

    coded: list[tuple[dict, ET.Element]] = []
    annotations = memos = 0
    for src in sources:
        for sel in _kids(src["elem"], "PlainTextSelection"):
            if not _kids(sel, "Coding"):
                annotations += 1  # an annotation, not a coding
                continue
            memos += bool(_kids(sel, "Description") or _kids(sel, "NoteRef"))
            coded.append((src, sel))
    selections = [_selection(sel, src, path) for src, sel in coded]
    origin = root.get("origin")
    try:
        choice = choose_convention(
            origin, selections,
            {s["name"]: s["raw"] for s in sources}, {s["name"]: s["text"] for s in sources})
    except NoConventionFits as exc:
        _refuse_outside(exc, selections, sources, path)
        raise DataError(
            path,
            f"the coded positions fit no known offset convention ({exc.producer.name} "
            "project); reading them would give wrong passages",
            column="PlainTextSelection/@startPosition",
            expected="positions that cut the text at word edges and match the stored "
            "passage texts under one convention",
            found="; ".join(f.summary() for f in exc.fits),
        ) from None

    rows: list[tuple[str, int, int, str, str, str]] = []
    for (src, sel), (start, end) in zip(coded, choice.spans, strict=True):
        chunk = src["text"][start:end]
        sel_user = sel.get("creatingUser")
        for coding in _kids(sel, "Coding"):
            user = coding.get("creatingUser") or sel_user
            coder = "unknown" if user is None else users.get(user, user)
            for ref in _kids(coding, "CodeRef"):
                target = ref.get("targetGUID")
                if target not in code_by_guid:
                    raise DataError(
                        path,
                        f"a coding in source {src['name']!r} refers to an unknown code",
                        column="CodeRef/@targetGUID",
                        expected="the guid of a Code in the CodeBook",
                        found=target,
                    )
                rows.append((src["name"], start, end, chunk, code_by_guid[target], coder))
    codings_df = pd.DataFrame(
        rows, columns=["doc_id", "start", "end", "text", "code_id", "coder"], dtype=object
    )
    corpus = tidy_corpus(doc_ids, attributes, codes, codings_df, path)
    ignored = {step.split("/")[0].lower(): len(_find(root, step)) for step in _IGNORED}
    ignored["non-text sources"] = sum(
        1 for e in _find(root, "Sources") for k in e if _local(k.tag) != "TextSource")
    report = QdpxReport(
        origin=origin, producer=choice.producer.name, convention=choice.convention.name,
        checked=choice.ambiguous, warning=choice.warning,
        users=tuple(dict.fromkeys(users.values())), annotations=annotations,
        selection_memos=memos, ignored=ignored)
    return corpus, report


def read_qdc(path: str | Path, *, max_bytes: int = MAX_MEMBER_BYTES) -> pd.DataFrame:
    """Read a REFI-QDA codebook (``.qdc``, what Taguette exports) into the tidy ``codes``
    table. ``Sets`` are not read (a codebook's sets group codes, not documents)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found", expected="a REFI-QDA codebook (.qdc)")
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DataError(path, f"the codebook is larger than {max_bytes} bytes",
                        expected="a REFI-QDA codebook (.qdc)")
    if b"\x00" in data and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        raise DataError(path, "the codebook holds a NUL byte",
                        expected="XML text without NUL characters")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise DataError(path, f"not well-formed XML ({exc})") from None
    if root.tag != f"{{{CODEBOOK_NS}}}CodeBook":
        raise DataError(path, "the root element is not a REFI-QDA CodeBook",
                        expected=f"CodeBook in namespace {CODEBOOK_NS}", found=root.tag)
    return _codebook(root, path, steps="Codes", ns=CODEBOOK_NS)[0]


# --------------------------------------------------------------------------- helpers


def _check_sizes(zf: zipfile.ZipFile, path: Path, member_limit: int, total_limit: int) -> None:
    """Refuse, before decompressing anything, members declared larger than the limits."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > member_limit:
            raise DataError(path, f"the zip entry {info.filename} would unpack to "
                            f"{info.file_size} bytes", column=info.filename,
                            expected=f"at most {member_limit} bytes per entry "
                            "(read_qdpx's max_member_bytes)")
    if total > total_limit:
        raise DataError(path, f"the zip's entries would unpack to {total} bytes in all",
                        expected=f"at most {total_limit} bytes (read_qdpx's max_total_bytes)")


def _read_member(zf: zipfile.ZipFile, member: str, path: Path, limit: int) -> bytes:
    """One entry's bytes, at most ``limit`` of them even if its header lies about its size;
    DataError when the zip is damaged (bad header, CRC, deflate data)."""
    try:
        with zf.open(member) as fh:
            data = fh.read(limit + 1)
    except _ZIP_ERRORS as exc:
        raise DataError(path, f"the zip entry {member} is damaged ({exc})",
                        expected="an intact REFI-QDA .qdpx project") from None
    if len(data) > limit:
        raise DataError(path, f"the zip entry {member} unpacks to more than {limit} bytes",
                        column=member, expected=f"at most {limit} bytes per entry "
                        "(read_qdpx's max_member_bytes)")
    return data


def _parse_qde(data: bytes, path: Path) -> ET.Element:
    """Parse project.qde; refuse NUL characters, codebooks and foreign namespaces by name."""
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if not utf16 and b"\x00" in data:
        at = data.index(b"\x00")
        line = data.count(b"\n", 0, at) + 1
        raise DataError(path, f"project.qde holds a NUL byte (line {line}, byte {at})",
                        row=line, expected="XML text without NUL characters "
                        "(a damaged or binary project file)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise DataError(path, f"project.qde is not well-formed XML ({exc})") from None
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) == "CodeBook":
        raise DataError(path, "project.qde holds a REFI-QDA codebook (CodeBook), not a project",
                        expected="a REFI-QDA project export (.qdpx), not a codebook (.qdc)",
                        found=ns or None)
    if _local(root.tag) != "Project":
        raise DataError(
            path, "project.qde's root element is not Project", found=_local(root.tag)
        )
    if not ns.startswith(_NS_PREFIX):
        raise DataError(path, "project.qde is not in the REFI-QDA project namespace",
                        column="Project/@xmlns", expected=f"xmlns=\"{NS}\"",
                        found=ns or "no namespace")
    return root




def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(elem: ET.Element, name: str, ns: str = _NS_PREFIX) -> list[ET.Element]:
    """Children named ``name`` in the project's namespace (other namespaces are foreign)."""
    return [c for c in elem if _local(c.tag) == name and c.tag.startswith("{" + ns)]


def _find(elem: ET.Element, steps: str, ns: str = _NS_PREFIX) -> list[ET.Element]:
    found = [elem]
    for step in steps.split("/"):
        found = [k for e in found for k in _kids(e, step, ns)]
    return found


def _codebook(root: ET.Element, path: Path, steps: str = "CodeBook/Codes",
              ns: str = _NS_PREFIX) -> tuple[pd.DataFrame, dict[str, str]]:
    rows: list[tuple[str, str | None, str, str, int]] = []
    by_guid: dict[str, str] = {}

    def walk(elem: ET.Element, parent: str | None, level: int) -> None:
        for code in _kids(elem, "Code", ns):
            name = code.get("name") or ""
            code_id = name if parent is None else f"{parent}\\{name}"
            desc = _kids(code, "Description", ns)
            text = (desc[0].text or "").strip() if desc else ""
            rows.append((code_id, parent, name, text, level))
            g = code.get("guid")
            if g in by_guid:
                raise DataError(path, "two codes share one guid", column="Code/@guid", found=g)
            by_guid[g] = code_id
            walk(code, code_id, level + 1)

    for codes in _find(root, steps, ns):
        walk(codes, None, 1)
    return codes_frame(rows, path, "Code/@name"), by_guid


def _text_sources(root: ET.Element, zf: zipfile.ZipFile, path: Path, limit: int) -> list[dict]:
    entries = {n.lower(): n for n in zf.namelist()}
    out = []
    seen: set[str] = set()
    for ts in _find(root, "Sources/TextSource"):
        name = ts.get("name") or ts.get("guid") or ""
        if name in seen:
            raise DataError(
                path,
                "two text sources share one name",
                column="TextSource/@name",
                expected="unique document names",
                found=name,
            )
        seen.add(name)
        content = _kids(ts, "PlainTextContent")
        if content:
            raw = content[0].text or ""
        else:
            ref = ts.get("plainTextPath") or ""
            if not ref.startswith("internal://"):
                raise DataError(
                    path,
                    f"source {name!r} has no text inside the project",
                    column="TextSource/@plainTextPath",
                    expected="PlainTextContent or an internal:// path",
                    found=ref or None,
                )
            file = ref[len("internal://") :]
            member = entries.get(f"sources/{file}".lower())
            if member is None:
                raise DataError(
                    path,
                    f"source {name!r}: its text file is missing from the zip",
                    column="TextSource/@plainTextPath",
                    expected=f"sources/{file}",
                    found=ref,
                )
            try:
                raw = _read_member(zf, member, path, limit).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise DataError(path, f"{member} is not UTF-8 text ({exc})") from None
        raw = raw.removeprefix("\ufeff")
        if "\x00" in raw:
            at = raw.index("\x00")
            raise DataError(path, f"the text of source {name!r} holds a NUL character "
                            f"(line {raw.count(chr(10), 0, at) + 1}, character {at})",
                            column="TextSource", expected="plain text without NUL characters")
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        # "units": the most positions any convention counts (UTF-16 units, CRLF as two)
        out.append({"guid": ts.get("guid"), "name": name, "raw": raw, "text": text,
                    "units": len(raw.encode("utf-16-le")) // 2, "elem": ts})
    return out


def _selection(sel: ET.Element, src: dict, path: Path) -> Selection:
    """A coded selection's raw positions; DataError when they are no whole numbers or
    lie outside the text under every convention."""
    doc = src["name"]
    try:
        start = int(sel.get("startPosition", ""))
        end = int(sel.get("endPosition", ""))
    except ValueError:
        raise DataError(
            path,
            f"a selection in source {doc!r} has non-integer positions",
            column="PlainTextSelection/@startPosition",
            expected="whole numbers",
            found=(sel.get("startPosition"), sel.get("endPosition")),
        ) from None
    longest = src["units"]  # the most units any convention counts
    if not 0 <= start <= end <= longest:
        raise DataError(
            path,
            f"a selection in source {doc!r} lies outside its text",
            column="PlainTextSelection",
            expected=f"0 <= startPosition <= endPosition <= {len(src['text'])} (the text's "
            "length)",
            found=(start, end),
        )
    return Selection(doc, start, end, sel.get("name"))


def _refuse_outside(exc: NoConventionFits, selections: list[Selection], sources: list[dict],
                    path: Path) -> None:
    """When no convention fits, name a selection that lies beyond its text under the
    producer's convention (the clearest message), if there is one."""
    conv = exc.producer.convention
    lengths = {s["name"]: conv.length(s["raw"]) for s in sources}
    for sel in selections:
        length = lengths[sel.doc]
        if sel.end > length:
            raise DataError(
                path,
                f"a selection in source {sel.doc!r} lies outside its text",
                column="PlainTextSelection",
                expected=f"0 <= startPosition <= endPosition <= {length} (the text's length "
                f"in {conv.name})",
                found=(sel.start, sel.end),
            )


def _variable_values(
    elem: ET.Element, variables: dict[str | None, str | None], path: Path
) -> list[tuple[str, str]]:
    out = []
    for vv in _kids(elem, "VariableValue"):
        ref = _kids(vv, "VariableRef")
        target = ref[0].get("targetGUID") if ref else None
        if target not in variables:
            raise DataError(
                path,
                "a VariableValue refers to an unknown variable",
                column="VariableRef/@targetGUID",
                expected="the guid of a Variable",
                found=target,
            )
        values = [k for k in vv if _local(k.tag) in _VALUE_TAGS]
        if values and values[0].text is not None and values[0].text.strip():
            out.append((variables[target], values[0].text.strip()))
    return out


def _put_attr(attrs: dict, doc: str, var: str, value: str, path: Path) -> None:
    old = attrs.setdefault((doc, var), value)
    if old != value:
        raise DataError(
            path,
            f"document {doc!r} has two values of variable {var!r}",
            column="VariableValue",
            expected="one value per document",
            found=(old, value),
        )
