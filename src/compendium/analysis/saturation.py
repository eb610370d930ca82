"""Code saturation: cumulative distinct leaf codes as interviews are added.

Definition: ``docs/methods.md#saturation``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from compendium.analysis._layout import (
    _codings_frame,
    _groups,
    _layout,
    _pairs,
    _short,
)
from compendium.data.corpus import CodedCorpus
from compendium.errors import ParameterError

# --------------------------------------------------------------------------- saturation


def saturation(
    corpus: CodedCorpus,
    codings: pd.DataFrame | None = None,
    order: Sequence[str] | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Cumulative distinct LEAF codes by interview order (codes with children are ignored).

    ``order`` = the documents in ``position`` order, or the given list of doc_ids (documents
    not listed are left out). ``order`` in the output counts interviews from 1. With ``by``
    (an attribute name) there is one curve per group: a leading ``group`` column, groups in
    first-appearance order, the count restarting in each group; documents without a value are
    left out. Columns: [group,] doc_id, order, new_codes, cumulative_codes.
    """
    lay = _layout(corpus)
    if order is None:
        seq = np.arange(lay.n_docs)
    else:
        wanted = list(order)
        seq = lay.doc_ids.get_indexer(wanted)
        if (seq < 0).any():
            bad = [w for w, p in zip(wanted, seq, strict=True) if p < 0]
            raise ParameterError("order", f"unknown doc_id(s) {bad}", allowed=_short(lay.doc_ids))
        if len(set(seq)) != len(seq):
            raise ParameterError("order", "lists a document more than once")
        seq = np.asarray(seq, dtype=np.int64)
    if by is None:
        labels: list[str] = []
        group = np.zeros(len(seq), dtype=np.int64)
    else:
        labels, doc_group = _groups(corpus, lay, by, None, name="by")
        group = doc_group[seq]
        seq, group = seq[group >= 0], group[group >= 0]
        # first appearance along the given order, then stable within group
        first = pd.unique(group)
        rank = np.empty(len(labels), dtype=np.int64)
        rank[first] = np.arange(len(first))
        o = np.argsort(rank[group], kind="stable")
        seq, group = seq[o], group[o]
    step = np.full(lay.n_docs, -1, dtype=np.int64)
    step[seq] = np.arange(len(seq))
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup=False)
    keep = lay.leaf[code]
    doc = lay.seg_doc[seg[keep]]
    st = step[doc]
    ok = st >= 0
    first_seen = (
        pd.DataFrame({"g": group[st[ok]], "c": code[keep][ok], "s": st[ok]})
        .groupby(["g", "c"], sort=False)["s"]
        .min()
        .to_numpy()
    )
    new = np.bincount(first_seen, minlength=len(seq)).astype(np.int64)
    out = pd.DataFrame(
        {
            "doc_id": np.asarray(lay.doc_ids[seq], dtype=object),
            "order": pd.Series(group).groupby(group).cumcount().to_numpy() + 1,
            "new_codes": new,
        }
    )
    out["cumulative_codes"] = out["new_codes"].groupby(group).cumsum().to_numpy()
    if by is not None:
        out.insert(0, "group", np.asarray(labels, dtype=object)[group])
    return out.astype({"order": np.int64, "cumulative_codes": np.int64})
