"""Exemplar quotes and framework matrices (codes x descriptor groups with quotes).

Definitions: ``docs/methods.md#framework-matrices``.
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
    _doc_values,
    _groups,
    _layout,
    _pairs,
    _select_codes,
)
from compendium.data.corpus import CodedCorpus
from compendium.errors import ParameterError

QUOTE_HOW = ("shortest", "random")

# --------------------------------------------------------------------------- quotes


def _quote_pick(
    seg_ids: np.ndarray, texts: np.ndarray, k: int, how: str, seed: int, min_chars: int
) -> np.ndarray:
    """Positions (into the candidate arrays) of the chosen quotes."""
    length = pd.Series(texts, dtype=object).str.strip().str.len().to_numpy()
    ok = np.flatnonzero((length > 0) & (length >= min_chars))
    if len(ok) == 0 or k == 0:
        return ok[:0]
    if how == "shortest":
        frame = pd.DataFrame({"len": length[ok], "sid": seg_ids[ok], "pos": ok})
        return frame.sort_values(["len", "sid"], kind="stable")["pos"].to_numpy()[:k]
    by_id = ok[np.argsort(seg_ids[ok].astype(str), kind="stable")]
    rng = np.random.default_rng(seed)
    return by_id[rng.choice(len(by_id), size=min(k, len(by_id)), replace=False)]


def _check_quote_args(k: int, how: str) -> None:
    _check_choice("how", how, QUOTE_HOW)
    if int(k) != k or k < 0:
        raise ParameterError("k", f"must be a whole number >= 0, got {k!r}")


def exemplar_quotes(
    corpus: CodedCorpus,
    code_id: str,
    k: int = 1,
    how: str = "shortest",
    seed: int = 0,
    attribute: str | None = None,
    value: str | None = None,
    codings: pd.DataFrame | None = None,
    min_chars: int = 20,
) -> pd.DataFrame:
    """Up to ``k`` excerpts carrying ``code_id`` (or any descendant).

    Only non-empty excerpts at least ``min_chars`` long (after stripping whitespace) qualify.
    ``how="shortest"``: the shortest, ties by segment_id. ``how="random"``: a sample without
    replacement drawn with ``numpy.random.default_rng(seed)`` from the candidates sorted by
    segment_id (same seed, same quotes), in draw order. With ``attribute`` and ``value`` only
    documents whose ``attribute`` equals ``value`` count, and a column named after the
    attribute is added. Columns: doc_id, segment_id, text [, attribute].
    """
    _check_quote_args(k, how)
    if (attribute is None) != (value is None):
        raise ParameterError("attribute", "give both attribute and value, or neither")
    lay = _layout(corpus)
    pos = _select_codes(lay, [code_id], name="code_id")[0]
    if attribute is None:
        doc_ok = np.ones(lay.n_docs, dtype=bool)
    else:
        doc_ok = (_doc_values(corpus, lay, attribute, "attribute") == value).to_numpy()
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup=True)
    cand = seg[(code == pos) & doc_ok[lay.seg_doc[seg]]]
    segs = corpus.segments
    sid = segs["segment_id"].to_numpy(dtype=object)[cand]
    text = segs["text"].to_numpy(dtype=object)[cand]
    pick = cand[_quote_pick(sid, text, int(k), how, seed, min_chars)]
    out = pd.DataFrame(
        {
            "doc_id": segs["doc_id"].to_numpy(dtype=object)[pick],
            "segment_id": segs["segment_id"].to_numpy(dtype=object)[pick],
            "text": segs["text"].to_numpy(dtype=object)[pick],
        }
    )
    if attribute is not None:
        out[attribute] = pd.Series([value] * len(out), dtype=object)
    return out


def framework_long(
    corpus: CodedCorpus,
    codes: Iterable[str] | None,
    attribute: str,
    quotes_per_cell: int = 1,
    seed: int = 0,
    codings: pd.DataFrame | None = None,
    order: Sequence[str] | None = None,
    how: str = "shortest",
    min_chars: int = 20,
) -> pd.DataFrame:
    """Framework (code x descriptor group) cells in long form.

    One row per code (codebook order; ``None`` = all codes) x group: code_id, title, level,
    parent_id, group, n_documents (interviews of the group with the code or a descendant),
    quotes (list of up to ``quotes_per_cell`` excerpts picked as :func:`exemplar_quotes` does
    with the same ``how``/``seed``/``min_chars``, whitespace collapsed to single spaces).
    """
    _check_quote_args(quotes_per_cell, how)
    lay = _layout(corpus)
    sel = _select_codes(lay, codes)
    labels, doc_group = _groups(corpus, lay, attribute, order)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup=True)
    segs = corpus.segments
    all_sid = segs["segment_id"].to_numpy(dtype=object)
    all_text = segs["text"].to_numpy(dtype=object)
    seg_group = doc_group[lay.seg_doc[seg]]
    presence = _doc_code_counts(lay, seg, code) > 0
    rows = []
    for c in sel:  # loop over codes x groups
        of_code = code == c
        for g, label in enumerate(labels):
            cand = seg[of_code & (seg_group == g)]
            pick = cand[
                _quote_pick(all_sid[cand], all_text[cand], quotes_per_cell, how, seed, min_chars)
            ]
            quotes = [" ".join(str(t).split()) for t in all_text[pick]]
            n_docs = int(presence[doc_group == g, c].sum())
            rows.append((c, label, n_docs, quotes))
    out = _code_cols(lay, np.asarray([r[0] for r in rows], dtype=np.int64))
    out["group"] = pd.Series([r[1] for r in rows], dtype=object)
    out["n_documents"] = np.asarray([r[2] for r in rows], dtype=np.int64)
    out["quotes"] = pd.Series([r[3] for r in rows], dtype=object)
    return out


def framework_matrix(
    corpus: CodedCorpus,
    codes: Iterable[str] | None,
    attribute: str,
    quotes_per_cell: int = 1,
    seed: int = 0,
    codings: pd.DataFrame | None = None,
    order: Sequence[str] | None = None,
    how: str = "shortest",
    min_chars: int = 20,
) -> pd.DataFrame:
    """Framework matrix: rows = codes (index ``code_id``), columns = groups of ``attribute``.

    Each cell reads ``"n = <interviews with the code in the group> | <quote 1> | ..."``
    (just ``"n = 0"`` when empty). See :func:`framework_long` for the same cells in long form.
    """
    long = framework_long(
        corpus, codes, attribute, quotes_per_cell, seed, codings, order, how, min_chars
    )
    cells = [
        " | ".join([f"n = {n}", *q])
        for n, q in zip(long["n_documents"], long["quotes"], strict=True)
    ]
    long = long.assign(cell=pd.Series(cells, dtype=object, index=long.index))
    labels = list(pd.unique(long["group"]))
    wide = long.pivot(index="code_id", columns="group", values="cell")
    wide = wide.reindex(index=pd.unique(long["code_id"]), columns=labels)
    wide.index.name = "code_id"
    wide.columns.name = attribute
    return wide
