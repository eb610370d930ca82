"""The tidy coded-interview tables every reader produces and every analysis reads.

A :class:`CodedCorpus` holds five tables, whatever tool wrote the export
(Dedoose, a REFI-QDA ``.qdpx`` project, ...):

``documents``       one row per interview: ``doc_id`` (str, unique), ``title`` (str),
                    ``position`` (int, 0-based order of the interview in the export).
``doc_attributes``  descriptors in long form: ``doc_id``, ``attribute``, ``value`` (str);
                    one value per (doc_id, attribute).
``codes``           the full codebook, applied or not: ``code_id`` (backslash path such as
                    ``Risks\\Underfunding``), ``parent_id`` (path of the parent, or None for a
                    top-level code), ``title`` (leaf title), ``description`` (str, may be
                    empty), ``level`` (1 = top level), ``position`` (int, codebook order).
``segments``        one row per coded passage (excerpt): ``segment_id`` (str, unique),
                    ``doc_id``, ``start``/``end`` (int character offsets, end exclusive),
                    ``text`` (str; empty for a document-level coding).
``codings``         one row per segment x code x coder: ``segment_id``, ``code_id``,
                    ``coder`` (str). Unique on all three columns.

A segment is identified by its document and range; when two coders excerpt the
same range it is one segment with codings from both coders.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from compendium.errors import DataError

#: The five tables of a corpus, in contract order.
TABLES = ("documents", "doc_attributes", "codes", "segments", "codings")


@functools.cache
def schemas() -> dict[str, Any]:
    """The pandera schema of each table (built on first use: importing pandera costs ~0.3 s,
    which a process that only holds a corpus, e.g. an analysis notebook, need not pay)."""
    import pandera.pandas as pa

    DOCUMENTS = pa.DataFrameSchema(
        {
            "doc_id": pa.Column(str, unique=True),
            "title": pa.Column(str),
            "position": pa.Column(int, pa.Check.ge(0)),
        },
        strict=True,
        ordered=True,
        name="documents",
    )

    DOC_ATTRIBUTES = pa.DataFrameSchema(
        {
            "doc_id": pa.Column(str),
            "attribute": pa.Column(str),
            "value": pa.Column(str),
        },
        strict=True,
        ordered=True,
        unique=["doc_id", "attribute"],
        name="doc_attributes",
    )

    CODES = pa.DataFrameSchema(
        {
            "code_id": pa.Column(str, unique=True),
            "parent_id": pa.Column(str, nullable=True),
            "title": pa.Column(str),
            "description": pa.Column(str),
            "level": pa.Column(int, pa.Check.ge(1)),
            "position": pa.Column(int, pa.Check.ge(0)),
        },
        strict=True,
        ordered=True,
        name="codes",
    )

    SEGMENTS = pa.DataFrameSchema(
        {
            "segment_id": pa.Column(str, unique=True),
            "doc_id": pa.Column(str),
            "start": pa.Column(int, pa.Check.ge(0)),
            "end": pa.Column(int, pa.Check.ge(0)),
            "text": pa.Column(str),
        },
        checks=pa.Check(lambda df: df["end"] >= df["start"], error="end >= start"),
        strict=True,
        ordered=True,
        name="segments",
    )

    CODINGS = pa.DataFrameSchema(
        {
            "segment_id": pa.Column(str),
            "code_id": pa.Column(str),
            "coder": pa.Column(str),
        },
        strict=True,
        ordered=True,
        unique=["segment_id", "code_id", "coder"],
        name="codings",
    )

    return {
        "documents": DOCUMENTS,
        "doc_attributes": DOC_ATTRIBUTES,
        "codes": CODES,
        "segments": SEGMENTS,
        "codings": CODINGS,
    }


def __getattr__(name: str) -> Any:
    """``SCHEMAS`` and the per-table schema constants, built lazily."""
    constants = {"SCHEMAS": None, "DOCUMENTS": "documents", "DOC_ATTRIBUTES": "doc_attributes",
                 "CODES": "codes", "SEGMENTS": "segments", "CODINGS": "codings"}
    if name in constants:
        return schemas() if constants[name] is None else schemas()[constants[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class CodedCorpus:
    """Five tidy tables describing one coded-interview project."""

    documents: pd.DataFrame
    doc_attributes: pd.DataFrame
    codes: pd.DataFrame
    segments: pd.DataFrame
    codings: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The five tables by name, in contract order."""
        return {name: getattr(self, name) for name in TABLES}


def validate_corpus(corpus: CodedCorpus, source: str | Path) -> CodedCorpus:
    """Check every table's schema and the references between tables.

    Raises :class:`DataError` naming ``source`` (the file the corpus was read from).
    """
    import pandera.errors

    for name, schema in schemas().items():
        table = getattr(corpus, name)
        try:
            schema.validate(table, lazy=False)
        except (pandera.errors.SchemaError, pandera.errors.SchemaErrors) as exc:
            raise DataError(source, f"tidy table {name!r} breaks its schema: {exc}") from None
    docs = set(corpus.documents["doc_id"])
    codes = set(corpus.codes["code_id"])
    segs = set(corpus.segments["segment_id"])
    _refs(source, corpus.doc_attributes, "doc_id", docs, "doc_attributes", "documents")
    _refs(source, corpus.segments, "doc_id", docs, "segments", "documents")
    _refs(source, corpus.codings, "segment_id", segs, "codings", "segments")
    _refs(source, corpus.codings, "code_id", codes, "codings", "codes")
    parents = corpus.codes["parent_id"].dropna()
    _refs(source, parents.to_frame(), "parent_id", codes, "codes", "codes")
    return corpus


def tidy_corpus(
    doc_ids: Sequence[str],
    attributes: pd.DataFrame,
    codes: pd.DataFrame,
    codings: pd.DataFrame,
    source: str | Path,
    titles: Sequence[str] | None = None,
) -> CodedCorpus:
    """Assemble the five contract tables in their canonical order and validate them.

    ``attributes`` has ``doc_id, attribute, value``; ``codings`` one row per coding
    with ``doc_id, start, end, text, code_id, coder`` (the first ``text`` of a range
    is kept). Shared by every reader so that tables from two sources compare equal.
    """
    doc_ids = list(doc_ids)
    pos = {d: i for i, d in enumerate(doc_ids)}
    documents = pd.DataFrame(
        {
            "doc_id": pd.Series(doc_ids, dtype=str),
            "title": pd.Series(list(titles) if titles is not None else doc_ids, dtype=str),
            "position": pd.Series(range(len(doc_ids)), dtype="int64"),
        }
    )
    attrs = attributes.assign(_p=attributes["doc_id"].map(pos))
    attrs = attrs.sort_values(["_p", "attribute"], kind="stable")
    doc_attributes = pd.DataFrame(
        {
            "doc_id": pd.Series(attrs["doc_id"].tolist(), dtype=str),
            "attribute": pd.Series(attrs["attribute"].tolist(), dtype=str),
            "value": pd.Series(attrs["value"].tolist(), dtype=str),
        }
    )
    cod = codings.assign(_p=codings["doc_id"].map(pos))
    cod = cod.sort_values(["_p", "start", "end"], kind="stable")
    seg = cod.drop_duplicates(["_p", "start", "end"])
    seg_ids = [
        f"{d}#{s}-{e}" for d, s, e in zip(seg["doc_id"], seg["start"], seg["end"], strict=True)
    ]
    segments = pd.DataFrame(
        {
            "segment_id": pd.Series(seg_ids, dtype=str),
            "doc_id": pd.Series(seg["doc_id"].tolist(), dtype=str),
            "start": pd.Series(seg["start"].tolist(), dtype="int64"),
            "end": pd.Series(seg["end"].tolist(), dtype="int64"),
            "text": pd.Series(seg["text"].tolist(), dtype=str),
        }
    )
    code_pos = dict(zip(codes["code_id"], codes["position"], strict=True))
    cid = [f"{d}#{s}-{e}" for d, s, e in zip(cod["doc_id"], cod["start"], cod["end"], strict=True)]
    seg_order = {s: i for i, s in enumerate(seg_ids)}
    long = pd.DataFrame(
        {
            "segment_id": cid,
            "code_id": cod["code_id"].tolist(),
            "coder": cod["coder"].tolist(),
        }
    )
    long["_s"] = long["segment_id"].map(seg_order)
    long["_c"] = long["code_id"].map(code_pos)
    long = long.drop_duplicates(["segment_id", "code_id", "coder"])
    long = long.sort_values(["_s", "_c", "coder"], kind="stable")
    codings_t = pd.DataFrame(
        {
            "segment_id": pd.Series(long["segment_id"].tolist(), dtype=str),
            "code_id": pd.Series(long["code_id"].tolist(), dtype=str),
            "coder": pd.Series(long["coder"].tolist(), dtype=str),
        }
    )
    corpus = CodedCorpus(
        documents=documents,
        doc_attributes=doc_attributes,
        codes=codes.reset_index(drop=True),
        segments=segments,
        codings=codings_t,
    )
    return validate_corpus(corpus, source)


def _refs(
    source: str | Path, table: pd.DataFrame, column: str, known: set, name: str, target: str
) -> None:
    bad = table.loc[~table[column].isin(known), column]
    if len(bad):
        raise DataError(
            source,
            f"tidy table {name!r} refers to {column} values missing from {target!r}",
            column=column,
            expected=f"one of the {len(known)} {target} ids",
            found=sorted(map(str, bad.unique()))[:5],
        )


def codes_frame(
    rows: Iterable[tuple[str, str | None, str, str, int]],
    source: str | Path = "<codebook>",
    column: str = "title",
) -> pd.DataFrame:
    """The tidy ``codes`` table from ``(code_id, parent_id, title, description, level)``
    tuples in codebook (depth-first) order. Every reader builds its codebook here.

    Raises :class:`DataError` naming ``source`` and ``column`` when two sibling codes share
    a title, so that their backslash paths would collide.
    """
    rows = list(rows)
    frame = pd.DataFrame(
        {
            "code_id": pd.Series([r[0] for r in rows], dtype=str),
            "parent_id": pd.Series([r[1] for r in rows], dtype=str),
            "title": pd.Series([r[2] for r in rows], dtype=str),
            "description": pd.Series([r[3] for r in rows], dtype=str),
            "level": pd.Series([r[4] for r in rows], dtype="int64"),
            "position": pd.Series(range(len(rows)), dtype="int64"),
        }
    )
    dup = frame["code_id"].duplicated()
    if dup.any():
        raise DataError(
            source,
            "two sibling codes share one title, so their paths collide",
            column=column,
            expected="unique titles among siblings",
            found=frame.loc[dup, "code_id"].iloc[0],
        )
    return frame


def attributes_wide(corpus: CodedCorpus) -> pd.DataFrame:
    """Descriptors as one row per document (index ``doc_id``, one column per attribute)."""
    wide = corpus.doc_attributes.pivot(index="doc_id", columns="attribute", values="value")
    wide = wide.reindex(corpus.documents["doc_id"])
    wide.columns.name = None
    return wide


def primary_codings(corpus: CodedCorpus) -> pd.DataFrame:
    """Codings of each document's primary coder only (for counts that must not double-count).

    The primary coder of a document is the coder with the most codings in it;
    ties go to the coder whose name sorts first.
    """
    cod = corpus.codings.merge(corpus.segments[["segment_id", "doc_id"]], on="segment_id")
    per = cod.groupby(["doc_id", "coder"]).size().reset_index(name="n")
    per = per.sort_values(["doc_id", "n", "coder"], ascending=[True, False, True])
    primary = per.drop_duplicates("doc_id")[["doc_id", "coder"]]
    keep = cod.merge(primary, on=["doc_id", "coder"])
    return (
        keep[["segment_id", "code_id", "coder"]]
        .sort_values(["segment_id", "code_id"])
        .reset_index(drop=True)
    )
