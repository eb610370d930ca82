"""Code frequency, document prevalence, presence/count matrices and descriptor tables.

Definitions: ``docs/methods.md#frequency-and-prevalence`` and ``#parent-roll-up``. Every
function reads one coding per segment x code: ``codings`` defaults to each document's
primary coder (:func:`~compendium.data.corpus.primary_codings`); pass the frame of
:func:`declared_codings` (or a corpus restricted to it) to make the primary coder a declared
choice instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from compendium.analysis._layout import (
    _check_choice,
    _code_cols,
    _codings_frame,
    _doc_code_counts,
    _groups,
    _Layout,
    _layout,
    _pairs,
    _ratio,
    _select_codes,
)
from compendium.data.corpus import CodedCorpus
from compendium.errors import ParameterError

UNITS = ("interview", "segment")

# --------------------------------------------------------------------------- frequencies


def code_frequency(
    corpus: CodedCorpus, codings: pd.DataFrame | None = None, rollup: bool = True
) -> pd.DataFrame:
    """Frequency and document prevalence of every code in the codebook.

    ``n_segments`` = n_c, distinct segments carrying the code (with ``rollup``: carrying the
    code or any descendant, each segment counted once). ``n_documents`` = N_c, documents
    with the code at least once; ``share_documents`` = N_c / |D| over ALL documents of the
    corpus, coded or not (NaN when the corpus has no documents).
    """
    lay = _layout(corpus)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup)
    counts = _doc_code_counts(lay, seg, code)
    out = _code_cols(lay, np.arange(lay.n_codes))[["code_id", "parent_id", "title", "level"]]
    out["n_segments"] = np.bincount(code, minlength=lay.n_codes).astype(np.int64)
    out["n_documents"] = (counts > 0).sum(axis=0).astype(np.int64)
    out["share_documents"] = _ratio(out["n_documents"].to_numpy(), lay.n_docs)
    return out


def _matrix(lay: _Layout, values: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame(
        values.astype(np.int64),
        index=pd.Index(lay.doc_ids, name="doc_id"),
        columns=pd.Index(lay.code_ids, name="code_id"),
    )
    return out


def count_matrix(
    corpus: CodedCorpus, codings: pd.DataFrame | None = None, rollup: bool = True
) -> pd.DataFrame:
    """Distinct segments per document (rows, position order, all documents) x code (columns)."""
    lay = _layout(corpus)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup)
    return _matrix(lay, _doc_code_counts(lay, seg, code))


def presence_matrix(
    corpus: CodedCorpus, codings: pd.DataFrame | None = None, rollup: bool = True
) -> pd.DataFrame:
    """0/1 document x code presence X (``docs/methods.md#parent-roll-up``); uncoded documents
    are all-zero rows."""
    lay = _layout(corpus)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup)
    return _matrix(lay, _doc_code_counts(lay, seg, code) > 0)


def by_descriptor(
    corpus: CodedCorpus,
    attribute: str,
    unit: str = "interview",
    codings: pd.DataFrame | None = None,
    rollup: bool = True,
    codes: Iterable[str] | None = None,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Code x descriptor group, long form: one row per code (codebook order) x group.

    ``unit="interview"``: ``n`` = documents of the group with the code, ``group_size`` =
    documents of the group (coded or not). ``unit="segment"``: ``n`` = distinct segments of
    the group carrying the code, ``group_size`` = distinct coded segments of the group (any
    code). ``pct`` = 100 n / group_size, NaN for an empty group (0/0). Groups follow first
    appearance in document order, or ``order`` (groups listed there but absent from the data
    appear with zero counts; groups in the data but not in ``order`` follow at the end).
    Documents without a value for ``attribute`` are left out.
    """
    _check_choice("unit", unit, UNITS)
    lay = _layout(corpus)
    labels, doc_group = _groups(corpus, lay, attribute, order)
    sel = _select_codes(lay, codes)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup)
    k, g = lay.n_codes, len(labels)
    if unit == "interview":
        counts = _doc_code_counts(lay, seg, code) > 0  # (D, K)
        keep = doc_group >= 0
        n = np.zeros((g, k), dtype=np.int64)
        np.add.at(n, doc_group[keep], counts[keep].astype(np.int64))
        size = np.bincount(doc_group[keep], minlength=g)
    else:
        grp = doc_group[lay.seg_doc[seg]]
        keep = grp >= 0
        n = np.bincount(grp[keep] * k + code[keep], minlength=g * k).reshape(g, k)
        coded = np.unique(seg)
        cgrp = doc_group[lay.seg_doc[coded]]
        size = np.bincount(cgrp[cgrp >= 0], minlength=g)
    out = _code_cols(lay, np.repeat(sel, g))
    out["group"] = pd.Series(np.tile(np.asarray(labels, dtype=object), len(sel)), dtype=object)
    out["n"] = n[:, sel].T.ravel().astype(np.int64)
    out["group_size"] = np.tile(size, len(sel)).astype(np.int64)
    out["pct"] = 100 * _ratio(out["n"].to_numpy(), out["group_size"].to_numpy())
    return out


# --------------------------------------------------------------------------- documents


def doc_summary(corpus: CodedCorpus) -> pd.DataFrame:
    """Per document (position order): doc_id, n_segments, n_codings (all coders), coders
    (sorted, joined with ", "; "" when uncoded), then one column per attribute."""
    lay = _layout(corpus)
    n_seg = np.bincount(lay.seg_doc, minlength=lay.n_docs)
    cod = corpus.codings
    seg = lay.seg_ids.get_indexer(cod["segment_id"])
    if (seg < 0).any():
        raise ParameterError("corpus", "codings refer to segments missing from segments")
    doc = lay.seg_doc[seg]
    n_cod = np.bincount(doc, minlength=lay.n_docs)
    pairs = (
        pd.DataFrame({"doc": doc, "coder": cod["coder"].to_numpy(dtype=object)})
        .drop_duplicates()
        .sort_values(["doc", "coder"])
    )
    joined = pairs.groupby("doc")["coder"].agg(", ".join)
    coders = joined.reindex(np.arange(lay.n_docs)).fillna("").to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "doc_id": np.asarray(lay.doc_ids, dtype=object),
            "n_segments": n_seg.astype(np.int64),
            "n_codings": n_cod.astype(np.int64),
            "coders": coders,
        }
    )
    attrs = corpus.doc_attributes
    if len(attrs):
        wide = attrs.pivot(index="doc_id", columns="attribute", values="value").reindex(lay.doc_ids)
        for col in wide.columns:
            out[col] = wide[col].to_numpy(dtype=object)
    return out


def declared_codings(corpus: CodedCorpus, primary: str) -> pd.DataFrame:
    """One coding per segment x code by a DECLARED rule (methods.md "The primary coder").

    ``primary`` a coder's name: in every document that coder coded, their codings; a
    document they did not code keeps its own coder's (if several, the one with the most
    codings, ties by name). ``primary="consensus"``: in a document coded by several coders,
    the segment x code pairs EVERY coder of the document applied (coder ``"consensus"``);
    a single-coded document keeps its coder. Columns: segment_id, code_id, coder.
    """
    cod = corpus.codings.merge(corpus.segments[["segment_id", "doc_id"]], on="segment_id")
    known = sorted(cod["coder"].unique())
    if primary != "consensus" and primary not in known:
        raise ParameterError(
            "primary_coder", f"unknown coder {primary!r}", allowed=["consensus", *known]
        )
    per = cod.groupby(["doc_id", "coder"]).size().reset_index(name="n")
    n_coders = per.groupby("doc_id")["coder"].transform("size")
    if primary == "consensus":
        multi = set(per.loc[n_coders > 1, "doc_id"])
        single = cod[~cod["doc_id"].isin(multi)]
        shared = cod[cod["doc_id"].isin(multi)]
        need = shared.groupby("doc_id")["coder"].transform("nunique")
        hits = shared.groupby(["segment_id", "code_id"])["coder"].transform("nunique")
        agreed = shared.loc[hits == need, ["segment_id", "code_id"]].drop_duplicates()
        out = pd.concat(
            [single[["segment_id", "code_id", "coder"]], agreed.assign(coder="consensus")]
        )
    else:
        per = per.assign(named=per["coder"] == primary)
        per = per.sort_values(
            ["doc_id", "named", "n", "coder"], ascending=[True, False, False, True]
        )
        chosen = per.drop_duplicates("doc_id")[["doc_id", "coder"]]
        out = cod.merge(chosen, on=["doc_id", "coder"])[["segment_id", "code_id", "coder"]]
    return out.sort_values(["segment_id", "code_id"]).reset_index(drop=True)
