"""Code x code co-occurrence: counts, Jaccard, conditional, Dice, Ochiai and lift.

Definitions: ``docs/methods.md#co-occurrence``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import sparse

from compendium.analysis._layout import (
    _check_choice,
    _codings_frame,
    _doc_code_counts,
    _layout,
    _pairs,
    _ratio,
    _select_codes,
)
from compendium.data.corpus import CodedCorpus

LEVELS = ("segment", "document")
MEASURES = ("count", "jaccard", "conditional", "dice", "ochiai", "lift")

# --------------------------------------------------------------------------- co-occurrence


def cooccurrence(
    corpus: CodedCorpus,
    codes: Iterable[str] | None = None,
    level: str = "segment",
    measure: str = "count",
    codings: pd.DataFrame | None = None,
    rollup: bool = False,
) -> pd.DataFrame:
    """Square code x code co-occurrence table (codebook order, index and columns ``code_id``).

    ``level="segment"``: n_ij = segments carrying both codes. Only the SAME segment counts:
    two different segments whose ranges overlap are not a co-occurrence (unlike Dedoose's and
    ATLAS.ti's optional overlap counting). ``level="document"``: n_ij = (XᵀX)_ij on the
    document x code presence matrix X.

    Measures (n_i = diagonal count): ``count`` n_ij; ``jaccard`` (ATLAS.ti c-coefficient)
    n_ij / (n_i + n_j - n_ij); ``conditional`` P(j | i) = n_ij / n_i, row i given; ``dice``
    2 n_ij / (n_i + n_j); ``ochiai`` n_ij / sqrt(n_i n_j); ``lift`` n_ij M / (n_i n_j) with M
    the number of units (coded segments, or all documents of the corpus).

    The diagonal holds n_i for ``count`` and NaN for every other measure (a code with itself
    is not informative). 0/0 (a code never applied) gives NaN, never 0.
    """
    _check_choice("level", level, LEVELS)
    _check_choice("measure", measure, MEASURES)
    lay = _layout(corpus)
    sel = _select_codes(lay, codes)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup)
    if level == "segment":
        rows, seg_pos = np.unique(seg, return_inverse=True)
        x = sparse.csr_matrix(
            (np.ones(len(seg), dtype=np.int64), (seg_pos, code)),
            shape=(len(rows), lay.n_codes),
        )
        nij = np.asarray((x.T @ x).todense(), dtype=np.int64)
        m = len(rows)
    else:
        x = (_doc_code_counts(lay, seg, code) > 0).astype(np.int64)
        nij = x.T @ x
        m = lay.n_docs
    nij = nij[np.ix_(sel, sel)]
    ni = np.diag(nij).astype(float)
    row, col = ni[:, None], ni[None, :]
    if measure == "count":
        values = nij
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            den = {
                "jaccard": row + col - nij,
                "conditional": np.broadcast_to(row, nij.shape),
                "dice": (row + col) / 2,
                "ochiai": np.sqrt(row * col),
                "lift": row * col / m if m else np.zeros_like(nij, dtype=float),
            }[measure]
        values = _ratio(nij, den)
        np.fill_diagonal(values, np.nan)
    ids = pd.Index(lay.code_ids[sel], name="code_id")
    return pd.DataFrame(values, index=ids, columns=ids.copy())


def near_universal(
    corpus: CodedCorpus,
    threshold: float = 0.9,
    codes: Iterable[str] | None = None,
    codings: pd.DataFrame | None = None,
    rollup: bool = False,
) -> pd.DataFrame:
    """Codes present in at least ``threshold`` of ALL documents (methods.md "Co-occurrence").

    For such a code document-level Jaccard with any rarer code j is about N_j / N_i, i.e.
    it restates j's prevalence, and lift is about 1 whatever the association; these codes
    are flagged so that their co-occurrence cells are not read as association.
    Columns: code_id, n_documents, share_documents; codebook order.
    """
    lay = _layout(corpus)
    sel = _select_codes(lay, codes)
    seg, code = _pairs(lay, _codings_frame(corpus, codings), rollup)
    n = (_doc_code_counts(lay, seg, code) > 0).sum(axis=0)[sel]
    share = _ratio(n, lay.n_docs)
    keep = share >= threshold
    return pd.DataFrame(
        {
            "code_id": np.asarray(lay.code_ids[sel], dtype=object)[keep],
            "n_documents": n[keep].astype(np.int64),
            "share_documents": share[keep],
        }
    )
