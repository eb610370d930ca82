"""Shared index of a coded corpus for the interview analyses (not a public API).

Integer positions of documents, segments and codes, the distinct (segment, code) pairs of a
codings frame (optionally rolled up to ancestors), and small validation helpers. Used by
:mod:`~compendium.analysis.coding`, :mod:`~compendium.analysis.cooccurrence`,
:mod:`~compendium.analysis.saturation`, :mod:`~compendium.analysis.agreement` and
:mod:`~compendium.analysis.quotes`. Conventions: ``docs/methods.md#coded-interview-conventions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from compendium.data.corpus import CodedCorpus, primary_codings
from compendium.errors import DataError, ParameterError

_CODE_COLS = ["code_id", "title", "level", "parent_id"]


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Layout:
    """Integer positions for documents, segments and codes of one corpus."""

    codes: pd.DataFrame  # codebook sorted by position, index 0..K-1
    code_ids: pd.Index
    doc_ids: pd.Index  # documents in position order
    seg_ids: pd.Index  # segments in table order
    seg_doc: np.ndarray  # document position of each segment
    anc_child: np.ndarray  # (child, ancestor-or-self) code position pairs
    anc_parent: np.ndarray
    leaf: np.ndarray  # bool per code: has no child in the codebook

    @property
    def n_codes(self) -> int:
        return len(self.code_ids)

    @property
    def n_docs(self) -> int:
        return len(self.doc_ids)


def _layout(corpus: CodedCorpus) -> _Layout:
    codes = corpus.codes.sort_values("position", kind="stable").reset_index(drop=True)
    code_ids = pd.Index(codes["code_id"])
    docs = corpus.documents.sort_values("position", kind="stable")
    doc_ids = pd.Index(docs["doc_id"])
    seg_ids = pd.Index(corpus.segments["segment_id"])
    seg_doc = doc_ids.get_indexer(corpus.segments["doc_id"])
    if (seg_doc < 0).any():
        raise ParameterError(
            "corpus",
            "segments refer to documents missing from the documents table "
            "(run compendium.data.corpus.validate_corpus first)",
        )
    has_parent = codes["parent_id"].notna().to_numpy()
    parent = np.where(has_parent, code_ids.get_indexer(codes["parent_id"]), -1)
    if (parent[has_parent] < 0).any():
        raise ParameterError("corpus", "codes table has parent_id values missing from code_id")
    child_list: list[int] = []
    anc_list: list[int] = []
    k = len(code_ids)
    for c in range(k):  # loop over codes: walk up to the root
        a, steps = c, 0
        while a >= 0:
            child_list.append(c)
            anc_list.append(a)
            a = int(parent[a])
            steps += 1
            if steps > k:
                raise DataError(
                    "codes table",
                    "parent_id links form a cycle",
                    column="parent_id",
                    found=code_ids[c],
                )
    leaf = np.ones(k, dtype=bool)
    leaf[parent[parent >= 0]] = False
    return _Layout(
        codes=codes,
        code_ids=code_ids,
        doc_ids=doc_ids,
        seg_ids=seg_ids,
        seg_doc=np.asarray(seg_doc, dtype=np.int64),
        anc_child=np.asarray(child_list, dtype=np.int64),
        anc_parent=np.asarray(anc_list, dtype=np.int64),
        leaf=leaf,
    )


def _codings_frame(corpus: CodedCorpus, codings: pd.DataFrame | None) -> pd.DataFrame:
    if codings is None:
        return primary_codings(corpus)
    missing = [c for c in ("segment_id", "code_id") if c not in codings.columns]
    if missing:
        raise ParameterError(
            "codings", f"missing column(s) {missing}", allowed="a frame like corpus.codings"
        )
    return codings


def _pairs(lay: _Layout, codings: pd.DataFrame, rollup: bool) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (segment position, code position) pairs, sorted, optionally rolled up."""
    seg = lay.seg_ids.get_indexer(codings["segment_id"])
    code = lay.code_ids.get_indexer(codings["code_id"])
    if (seg < 0).any() or (code < 0).any():
        bad_s = sorted(map(str, codings["segment_id"][seg < 0].unique()))[:5]
        bad_c = sorted(map(str, codings["code_id"][code < 0].unique()))[:5]
        raise ParameterError(
            "codings",
            f"refers to segments {bad_s} or codes {bad_c} that are not in the corpus",
        )
    seg = np.asarray(seg, dtype=np.int64)
    code = np.asarray(code, dtype=np.int64)
    if rollup:
        # expand each coding to (segment, ancestor-or-self) via a CSR-style repeat
        order = np.argsort(lay.anc_child, kind="stable")
        child_sorted = lay.anc_child[order]
        anc_sorted = lay.anc_parent[order]
        counts = np.bincount(child_sorted, minlength=lay.n_codes)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        reps = counts[code]
        seg = np.repeat(seg, reps)
        offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        code = anc_sorted[np.repeat(starts[code], reps) + offsets]
    key = np.unique(seg * lay.n_codes + code)
    return key // lay.n_codes, key % lay.n_codes


def _doc_code_counts(lay: _Layout, seg: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Distinct segments per document x code, shape (D, K)."""
    doc = lay.seg_doc[seg]
    k = lay.n_codes
    flat = np.bincount(doc * k + code, minlength=lay.n_docs * k)
    return flat.reshape(lay.n_docs, k)


def _code_cols(lay: _Layout, idx: np.ndarray) -> pd.DataFrame:
    return lay.codes.loc[idx, _CODE_COLS].reset_index(drop=True)


def _select_codes(
    lay: _Layout, codes: Iterable[str] | str | None, name: str = "codes"
) -> np.ndarray:
    """Codebook positions of the requested codes, in codebook order."""
    if codes is None:
        return np.arange(lay.n_codes)
    wanted = [codes] if isinstance(codes, str) else list(codes)
    pos = lay.code_ids.get_indexer(wanted)
    if (pos < 0).any():
        bad = [w for w, p in zip(wanted, pos, strict=True) if p < 0]
        raise ParameterError(name, f"unknown code_id(s) {bad}", allowed=_short(lay.code_ids))
    return np.unique(pos)


def _short(values: Sequence[str], n: int = 12) -> str:
    values = list(values)
    text = ", ".join(map(repr, values[:n]))
    return text + (f", ... ({len(values)} in all)" if len(values) > n else "")


def _check_choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ParameterError(name, f"unknown value {value!r}", allowed=list(allowed))


def _doc_values(corpus: CodedCorpus, lay: _Layout, attribute: str, name: str) -> pd.Series:
    """Value of ``attribute`` per document (position order; NaN when missing)."""
    attrs = corpus.doc_attributes
    allowed = sorted(attrs["attribute"].unique())
    if attribute not in allowed:
        raise ParameterError(name, f"unknown attribute {attribute!r}", allowed=allowed)
    sub = attrs.loc[attrs["attribute"] == attribute]
    return pd.Series(sub["value"].to_numpy(), index=sub["doc_id"].to_numpy()).reindex(lay.doc_ids)


def _groups(
    corpus: CodedCorpus,
    lay: _Layout,
    attribute: str,
    order: Sequence[str] | None,
    name: str = "attribute",
) -> tuple[list[str], np.ndarray]:
    """Group labels and each document's group position (-1 = no value)."""
    values = _doc_values(corpus, lay, attribute, name)
    labels = list(pd.unique(values.dropna()))
    if order is not None:
        order = list(order)
        if len(set(order)) != len(order):
            raise ParameterError("order", "lists a group more than once", allowed=labels)
        labels = order + [v for v in labels if v not in set(order)]
    return labels, np.asarray(pd.Index(labels).get_indexer(values), dtype=np.int64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN where den == 0."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out
