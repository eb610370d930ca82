"""Read and write REFI-QDA projects (``.qdpx``, QDA-XML 1.0) as a CodedCorpus.

A ``.qdpx`` is a zip holding ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``)
and the plain-text sources under ``sources/`` (some tools write ``Sources/``).

Reading conventions (see :mod:`compendium.data.corpus` for the tables):

* Documents are the ``TextSource`` elements in file order; ``doc_id`` and ``title``
  are the source's ``name``. Other source types (PDF, picture, audio, video) are skipped.
* A source's text is its ``PlainTextContent`` or the file its ``plainTextPath`` names
  (``internal://<file>`` inside ``sources/``; other schemes are refused). Line endings
  are normalised to ``\\n`` before slicing (ATLAS.ti counts ``\\r\\n`` as one character).
  Offsets are Unicode code points, end exclusive, and must lie inside the text.
* Each ``PlainTextSelection`` with ``Coding`` children gives one segment; selections
  without a coding are annotations and are ignored. Two users selecting one range
  give one segment. The coder is the user named by ``Coding/@creatingUser`` (else
  the selection's ``creatingUser``; a GUID not listed under ``Users`` is kept as is;
  ``unknown`` when neither is given).
* Codes: the ``CodeBook`` tree, ``code_id`` the backslash path of names, depth-first
  order. Descriptors: ``VariableValue`` of every ``Case`` go to each source the case
  refers to (MAXQDA and Quirkos use a nameless case per document), and a source's own
  ``VariableValue`` children.
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from compendium.artifacts import atomic_write_bytes
from compendium.data.corpus import CodedCorpus, codes_frame, tidy_corpus, validate_corpus
from compendium.errors import DataError, ParameterError

NS = "urn:QDA-XML:project:1.0"
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


def read_qdpx(path: str | Path) -> CodedCorpus:
    """Read a REFI-QDA ``.qdpx`` project into a validated CodedCorpus."""
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
        names = zf.namelist()
        qde = [n for n in names if n.lower() == "project.qde"]
        if not qde:
            raise DataError(
                path,
                "the zip holds no project.qde",
                expected="a REFI-QDA .qdpx project (project.qde at the top of the zip)",
                found=names[:5],
            )
        try:
            root = ET.fromstring(_read_member(zf, qde[0], path))
        except ET.ParseError as exc:
            raise DataError(path, f"project.qde is not well-formed XML ({exc})") from None
        if _local(root.tag) != "Project":
            raise DataError(
                path, "project.qde's root element is not Project", found=_local(root.tag)
            )
        users = {u.get("guid"): u.get("name") or u.get("guid") for u in _find(root, "Users/User")}
        codes, code_by_guid = _codebook(root, path)
        variables = {v.get("guid"): v.get("name") for v in _find(root, "Variables/Variable")}
        sources = _text_sources(root, zf, path)

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

    rows: list[tuple[str, int, int, str, str, str]] = []
    for src in sources:
        text = src["text"]
        for sel in _kids(src["elem"], "PlainTextSelection"):
            codings = _kids(sel, "Coding")
            if not codings:
                continue  # an annotation, not a coding
            start, end = _positions(sel, len(text), src["name"], path)
            chunk = text[start:end]
            sel_user = sel.get("creatingUser")
            for coding in codings:
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
    return tidy_corpus(doc_ids, attributes, codes, codings_df, path)


def write_qdpx(
    corpus: CodedCorpus,
    texts: dict[str, str],
    path: str | Path,
    users: Sequence[str] | None = None,
    *,
    project_name: str = "project",
    line_ending: str = "\n",
    date_time: tuple[int, int, int, int, int, int] = (2022, 12, 31, 0, 0, 0),
) -> Path:
    """Write ``corpus`` as a REFI-QDA ``.qdpx`` (deterministic bytes) and return its path.

    Each document becomes a ``TextSource`` named by its ``doc_id`` (the reader takes
    the name as both ``doc_id`` and ``title``). ``texts`` maps every ``doc_id`` to its
    full transcript (``\\n`` line endings); each segment's text must equal its slice.
    ``users`` lists the ``Users`` in order (default: the coders, sorted) and must include
    every coder. ``line_ending="\\r\\n"`` writes the source files with Windows line
    endings while offsets stay counted on ``\\n`` text (as ATLAS.ti does). GUIDs are
    uuid5 of ``project_name`` and the object's name; every zip
    entry is stamped ``date_time``.
    """
    path = Path(path)
    if line_ending not in ("\n", "\r\n"):
        raise ParameterError("line_ending", "unsupported line ending", allowed=["\\n", "\\r\\n"])
    validate_corpus(corpus, path)
    coders = sorted(set(corpus.codings["coder"]))
    users = list(users) if users is not None else coders
    missing = sorted(set(coders) - set(users))
    if missing:
        raise ParameterError("users", f"coders missing from users: {missing}")
    for doc in corpus.documents["doc_id"]:
        if doc not in texts:
            raise ParameterError("texts", f"no transcript for document {doc!r}")
        if "\r" in texts[doc]:
            raise ParameterError("texts", f"transcript of {doc!r} holds '\\r'; use '\\n' only")
    seg = corpus.segments
    for sid, doc, start, end, text in zip(
        seg["segment_id"], seg["doc_id"], seg["start"], seg["end"], seg["text"], strict=True
    ):
        if texts[doc][start:end] != text:
            raise ParameterError(
                "texts", f"segment {sid!r}: its text differs from the transcript slice"
            )

    space = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:compendium:qdpx:{project_name}")

    def guid(kind: str, key: str) -> str:
        return str(uuid.uuid5(space, f"{kind}:{key}"))

    ET.register_namespace("", NS)
    q = f"{{{NS}}}"
    user_guid = {u: guid("user", u) for u in users}
    root = ET.Element(q + "Project", {"name": project_name, "origin": "compendium.qdpx"})
    if users:
        root.set("creatingUserGUID", user_guid[users[0]])
    users_el = ET.SubElement(root, q + "Users")
    for u in users:
        ET.SubElement(users_el, q + "User", {"guid": user_guid[u], "name": u})

    code_guid = {c: guid("code", c) for c in corpus.codes["code_id"]}
    codes_el = ET.SubElement(ET.SubElement(root, q + "CodeBook"), q + "Codes")
    parent_el: dict[str | None, ET.Element] = {None: codes_el}
    for code_id, parent, title, desc in zip(
        corpus.codes["code_id"],
        corpus.codes["parent_id"],
        corpus.codes["title"],
        corpus.codes["description"],
        strict=True,
    ):
        parent = None if pd.isna(parent) else parent
        el = ET.SubElement(
            parent_el[parent],
            q + "Code",
            {"guid": code_guid[code_id], "name": title, "isCodable": "true"},
        )
        if desc:
            ET.SubElement(el, q + "Description").text = desc
        parent_el[code_id] = el

    attrs = corpus.doc_attributes
    var_names = list(dict.fromkeys(attrs["attribute"]))
    var_guid = {v: guid("variable", v) for v in var_names}
    if var_names:
        vars_el = ET.SubElement(root, q + "Variables")
        for v in var_names:
            ET.SubElement(
                vars_el, q + "Variable", {"guid": var_guid[v], "name": v, "typeOfVariable": "Text"}
            )
    doc_guid = {d: guid("source", d) for d in corpus.documents["doc_id"]}
    if len(attrs):
        cases_el = ET.SubElement(root, q + "Cases")
        per_doc: dict[str, list[tuple[str, str]]] = {}
        for doc, var, value in zip(
            attrs["doc_id"], attrs["attribute"], attrs["value"], strict=True
        ):
            per_doc.setdefault(doc, []).append((var, value))
        for doc, pairs in per_doc.items():
            case = ET.SubElement(cases_el, q + "Case", {"guid": guid("case", doc), "name": doc})
            for var, value in pairs:
                vv = ET.SubElement(case, q + "VariableValue")
                ET.SubElement(vv, q + "VariableRef", {"targetGUID": var_guid[var]})
                ET.SubElement(vv, q + "TextValue").text = value
            ET.SubElement(case, q + "SourceRef", {"targetGUID": doc_guid[doc]})

    sources_el = ET.SubElement(root, q + "Sources")
    where = {
        sid: (doc, int(start), int(end))
        for sid, doc, start, end in zip(
            seg["segment_id"], seg["doc_id"], seg["start"], seg["end"], strict=True
        )
    }
    selections: dict[str, dict[tuple[str, str], list[str]]] = {}
    for sid, code_id, coder in zip(
        corpus.codings["segment_id"],
        corpus.codings["code_id"],
        corpus.codings["coder"],
        strict=True,
    ):
        selections.setdefault(where[sid][0], {}).setdefault((sid, coder), []).append(code_id)
    files: list[tuple[str, bytes]] = []
    for doc in corpus.documents["doc_id"]:
        g = doc_guid[doc]
        ts = ET.SubElement(
            sources_el,
            q + "TextSource",
            {"guid": g, "name": doc, "plainTextPath": f"internal://{g}.txt"},
        )
        files.append((f"sources/{g}.txt", texts[doc].replace("\n", line_ending).encode("utf-8")))
        for (sid, coder), code_ids in selections.get(doc, {}).items():
            _, start, end = where[sid]
            sel = ET.SubElement(
                ts,
                q + "PlainTextSelection",
                {
                    "guid": guid("selection", f"{sid}|{coder}"),
                    "startPosition": str(start),
                    "endPosition": str(end),
                    "creatingUser": user_guid[coder],
                },
            )
            for code_id in code_ids:
                c = ET.SubElement(
                    sel,
                    q + "Coding",
                    {
                        "guid": guid("coding", f"{sid}|{coder}|{code_id}"),
                        "creatingUser": user_guid[coder],
                    },
                )
                ET.SubElement(c, q + "CodeRef", {"targetGUID": code_guid[code_id]})
    ET.indent(root, space=" ")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    return atomic_write_bytes(path, deterministic_zip([("project.qde", xml), *files], date_time))


def deterministic_zip(
    entries: Sequence[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int]
) -> bytes:
    """Zip ``entries`` in the given order, every entry stamped ``date_time`` (same bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buf.getvalue()


# --------------------------------------------------------------------------- helpers


def _read_member(zf: zipfile.ZipFile, member: str, path: Path) -> bytes:
    """One entry's bytes; DataError when the zip is damaged (bad header, CRC, deflate data)."""
    try:
        return zf.read(member)
    except _ZIP_ERRORS as exc:
        raise DataError(path, f"the zip entry {member} is damaged ({exc})",
                        expected="an intact REFI-QDA .qdpx project") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kids(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if _local(c.tag) == name]


def _find(elem: ET.Element, steps: str) -> list[ET.Element]:
    found = [elem]
    for step in steps.split("/"):
        found = [k for e in found for k in _kids(e, step)]
    return found


def _codebook(root: ET.Element, path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    rows: list[tuple[str, str | None, str, str, int]] = []
    by_guid: dict[str, str] = {}

    def walk(elem: ET.Element, parent: str | None, level: int) -> None:
        for code in _kids(elem, "Code"):
            name = code.get("name") or ""
            code_id = name if parent is None else f"{parent}\\{name}"
            desc = _kids(code, "Description")
            text = (desc[0].text or "").strip() if desc else ""
            rows.append((code_id, parent, name, text, level))
            g = code.get("guid")
            if g in by_guid:
                raise DataError(path, "two codes share one guid", column="Code/@guid", found=g)
            by_guid[g] = code_id
            walk(code, code_id, level + 1)

    for codes in _find(root, "CodeBook/Codes"):
        walk(codes, None, 1)
    return codes_frame(rows, path, "Code/@name"), by_guid


def _text_sources(root: ET.Element, zf: zipfile.ZipFile, path: Path) -> list[dict]:
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
                raw = _read_member(zf, member, path).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise DataError(path, f"{member} is not UTF-8 text ({exc})") from None
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        out.append({"guid": ts.get("guid"), "name": name, "text": text, "elem": ts})
    return out


def _positions(sel: ET.Element, length: int, doc: str, path: Path) -> tuple[int, int]:
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
    if not 0 <= start <= end <= length:
        raise DataError(
            path,
            f"a selection in source {doc!r} lies outside its text",
            column="PlainTextSelection",
            expected=f"0 <= startPosition <= endPosition <= {length} (the text's length)",
            found=(start, end),
        )
    return start, end


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
