"""Write a CodedCorpus as a REFI-QDA ``.qdpx`` project (QDA-XML 1.0), byte for byte reproducible.

Every project written is valid against the REFI-QDA Project schema (``Project-mrt2019.xsd``),
also for an empty corpus: the schema forbids an empty ``<Users/>``, ``<Codes/>`` or
``<Sources/>``, so an element with nothing to hold is left out (and a ``CodeBook`` without
codes with it).
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from compendium.artifacts import atomic_write_bytes
from compendium.data.corpus import CodedCorpus, validate_corpus
from compendium.errors import ParameterError

NS = "urn:QDA-XML:project:1.0"


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
    if users:  # the schema wants at least one User inside Users
        users_el = ET.SubElement(root, q + "Users")
        for u in users:
            ET.SubElement(users_el, q + "User", {"guid": user_guid[u], "name": u})

    code_guid = {c: guid("code", c) for c in corpus.codes["code_id"]}
    parent_el: dict[str | None, ET.Element] = {}
    if len(corpus.codes):  # a CodeBook holds one Codes, which holds at least one Code
        parent_el[None] = ET.SubElement(ET.SubElement(root, q + "CodeBook"), q + "Codes")
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

    if len(corpus.documents):  # Sources must hold at least one source
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
