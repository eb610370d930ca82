"""Coded-interview analyses on a :class:`~compendium.data.corpus.CodedCorpus`.

Notation as in METHODS.md ("Coded-interview summaries", "Intercoder agreement"):
documents D, segments S, a(s, c) = 1 when segment s carries code c.

Conventions shared by every function here:

* ``codings`` defaults to :func:`~compendium.data.corpus.primary_codings` (each document's
  primary coder only), so double coding is not counted twice. An explicit codings frame
  (columns ``segment_id``, ``code_id``, ``coder``) may be passed instead; a segment that
  carries a code from several coders still counts once (counts are over distinct
  segment x code pairs).
* Code-level tables cover the FULL codebook (codes never applied appear with zeros), in
  codebook ``position`` order, with ``code_id``, ``title``, ``level`` and ``parent_id``.
  Matrices (presence, counts, co-occurrence, framework) are labelled by ``code_id``.
* Parent roll-up (``rollup=True``): a segment carries a parent when it carries the parent
  or any descendant. Counts are over DISTINCT segments: a segment carrying two children of
  the same parent counts once for the parent. METHODS.md writes "counts = parent +
  children"; that equals ours whenever a segment carries at most one code of the family.
* Documents follow their ``position`` order; groups of a descriptor follow their first
  appearance in that order unless ``order=`` is given. Documents without a value for the
  descriptor are left out of the grouped tables.
* Everything is vectorised (numpy / pandas / scipy.sparse); the only Python loops run over
  codes, coders or descriptor groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.metrics import cohen_kappa_score

from compendium.data.corpus import CodedCorpus, primary_codings
from compendium.errors import DataError, ParameterError

__all__ = [
    "KAPPA_BANDS",
    "agreement",
    "agreement_summary",
    "by_descriptor",
    "code_frequency",
    "cooccurrence",
    "count_matrix",
    "doc_summary",
    "exemplar_quotes",
    "framework_long",
    "framework_matrix",
    "kappa_band",
    "pooled_kappa",
    "presence_matrix",
    "saturation",
]

UNITS = ("interview", "segment")
LEVELS = ("segment", "document")
MEASURES = ("count", "jaccard", "conditional", "dice", "ochiai", "lift")
QUOTE_HOW = ("shortest", "random")

#: Landis & Koch (1977) bands for kappa, as printed: (low, high, label).
#: :func:`kappa_band` reads them on a continuous scale: k < 0 is "poor", otherwise the first
#: band with k <= high (so 0.60 is "moderate" and 0.605 is "substantial").
KAPPA_BANDS: tuple[tuple[float, float, str], ...] = (
    (-1.00, 0.00, "poor"),
    (0.00, 0.20, "slight"),
    (0.21, 0.40, "fair"),
    (0.41, 0.60, "moderate"),
    (0.61, 0.80, "substantial"),
    (0.81, 1.00, "almost perfect"),
)

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
    """0/1 document x code presence (the X of METHODS.md); uncoded documents are all-zero rows."""
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


# --------------------------------------------------------------------------- agreement


def kappa_band(k: float) -> str:
    """Landis & Koch label of a kappa (see :data:`KAPPA_BANDS`); "undefined" for NaN."""
    k = float("nan") if k is None else float(k)
    if math.isnan(k):
        return "undefined"
    if not -1.0 <= k <= 1.0:
        raise ParameterError("k", f"kappa {k} outside [-1, 1]")
    if k < 0:
        return KAPPA_BANDS[0][2]
    return next(label for _, high, label in KAPPA_BANDS[1:] if k <= high)


def _pick_coders(codings: pd.DataFrame, coders: Sequence[str] | None) -> tuple[str, str]:
    per = codings.groupby("coder").size().reset_index(name="n")
    known = sorted(per["coder"])
    if coders is None:
        per = per.sort_values(["n", "coder"], ascending=[False, True])
        if len(per) < 2:
            raise ParameterError(
                "coders", "agreement needs two coders; the corpus has fewer", allowed=known
            )
        return str(per["coder"].iloc[0]), str(per["coder"].iloc[1])
    coders = tuple(coders)
    if len(coders) != 2 or coders[0] == coders[1]:
        raise ParameterError("coders", f"need two different coders, got {coders!r}", allowed=known)
    bad = [c for c in coders if c not in known]
    if bad:
        raise ParameterError("coders", f"unknown coder(s) {bad}", allowed=known)
    return coders[0], coders[1]


@dataclass(frozen=True)
class _Double:
    coders: tuple[str, str]
    n_docs: int  # documents coded by both
    units: np.ndarray  # segment positions of the units
    a: np.ndarray  # (U, K) bool decisions of coder a
    b: np.ndarray
    sel: np.ndarray  # selected code positions


def _double(
    corpus: CodedCorpus,
    coders: Sequence[str] | None,
    codes: Iterable[str] | None,
    rollup: bool,
) -> tuple[_Layout, _Double]:
    lay = _layout(corpus)
    sel = _select_codes(lay, codes)
    cod = corpus.codings
    pair = _pick_coders(cod, coders)
    per = []
    for coder in pair:  # loop over the two coders
        seg, code = _pairs(lay, cod.loc[cod["coder"] == coder], rollup)
        per.append((seg, code))
    docs = np.intersect1d(lay.seg_doc[per[0][0]], lay.seg_doc[per[1][0]])
    in_both = np.isin(np.arange(lay.n_docs), docs)
    units = np.unique(np.concatenate([per[0][0], per[1][0]]))
    units = units[in_both[lay.seg_doc[units]]]
    mats = []
    for seg, code in per:
        m = np.zeros((len(units), lay.n_codes), dtype=bool)
        pos = np.searchsorted(units, seg)
        hit = (pos < len(units)) & (units[np.minimum(pos, len(units) - 1)] == seg)
        m[pos[hit], code[hit]] = True
        mats.append(m)
    return lay, _Double(pair, len(docs), units, mats[0], mats[1], sel)


def _code_stats(d: _Double) -> pd.DataFrame:
    """Per selected code: observed and expected agreement on the unit decisions."""
    u = len(d.units)
    a = d.a[:, d.sel].astype(float)
    b = d.b[:, d.sel].astype(float)
    pa, pb = _ratio(a.sum(0), u), _ratio(b.sum(0), u)
    return pd.DataFrame(
        {
            "n_a": a.sum(0).astype(np.int64),
            "n_b": b.sum(0).astype(np.int64),
            "n_both": (a * b).sum(0).astype(np.int64),
            "po": _ratio((a == b).sum(0), u),
            "pe": pa * pb + (1 - pa) * (1 - pb),
        }
    )


def agreement(
    corpus: CodedCorpus,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
    threshold: float = 0.6,
    rollup: bool = False,
) -> pd.DataFrame:
    """Per-code intercoder agreement between two coders (METHODS.md "Intercoder agreement").

    Units: every segment of a document coded by BOTH coders that carries a coding from
    either of them, crossed with each code (applied or not). A segment is one range: if the
    coders excerpt different ranges those are different segments, each a disagreement.
    ``coders`` defaults to the two coders with the most codings (ties by name). Codes are
    judged on their own codings (``rollup=False``) unless asked.

    Columns: code_id, title, level, parent_id, n_units, n_a, n_b (units each coder applied
    the code to), n_both, pct_agreement, kappa (``sklearn.metrics.cohen_kappa_score``), alpha
    (``krippendorff.alpha``, nominal), flag. kappa and alpha are NaN when only one value
    occurs: flag "not applied in subset" (pct_agreement 100) or "applied to every unit".
    Otherwise flag "below <threshold>" when kappa < threshold, else "". With no double-coded
    units every statistic is NaN and flag "no double-coded units".
    """
    lay, d = _double(corpus, coders, codes, rollup)
    st = _code_stats(d)
    u = len(d.units)
    kappa = np.full(len(d.sel), np.nan)
    alpha = np.full(len(d.sel), np.nan)
    flags = []
    for j, c in enumerate(d.sel):  # loop over codes
        va, vb = d.a[:, c].astype(np.int64), d.b[:, c].astype(np.int64)
        both_values = u > 0 and 0 < va.sum() + vb.sum() < 2 * u
        if both_values:
            kappa[j] = cohen_kappa_score(va, vb, labels=[0, 1])
            alpha[j] = krippendorff.alpha(
                reliability_data=np.vstack([va, vb]).astype(float),
                level_of_measurement="nominal",
            )
        if u == 0:
            flags.append("no double-coded units")
        elif not both_values:
            flags.append("not applied in subset" if va.sum() == 0 else "applied to every unit")
        elif kappa[j] < threshold:
            flags.append(f"below {threshold:g}")
        else:
            flags.append("")
    out = _code_cols(lay, d.sel)
    out["n_units"] = np.int64(u)
    out = pd.concat([out, st[["n_a", "n_b", "n_both"]]], axis=1)
    out["pct_agreement"] = 100 * st["po"].to_numpy()
    out["kappa"] = kappa
    out["alpha"] = alpha
    out["flag"] = pd.Series(flags, dtype=object)
    return out


def _pooled(st: pd.DataFrame) -> float:
    po, pe = st["po"].to_numpy(), st["pe"].to_numpy()
    if len(po) == 0 or np.isnan(po).any():
        return float("nan")
    den = len(pe) - pe.sum()
    return float((po.sum() - pe.sum()) / den) if den > 1e-12 else float("nan")


def pooled_kappa(
    corpus: CodedCorpus,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
    rollup: bool = False,
) -> float:
    """Pooled kappa across codes (De Vries et al. 2008): (Σ p_o - Σ p_e) / (K - Σ p_e).

    p_o, p_e = observed and chance agreement of each code on the units of :func:`agreement`.
    A code nobody applied has p_o = p_e = 1 and so leaves the pooled value unchanged.
    """
    _, d = _double(corpus, coders, codes, rollup)
    return _pooled(_code_stats(d))


def agreement_summary(
    corpus: CodedCorpus,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
    threshold: float = 0.6,
    rollup: bool = False,
) -> dict:
    """Headline agreement figures for a report.

    Keys: coders, n_documents (coded by both), n_segments (units), n_codes,
    share_double_coded (n_documents / all documents), pct_agreement (agreeing decisions /
    all segment x code decisions, x100), pooled_kappa, pooled_kappa_band, mean_alpha (mean of
    the defined per-code alphas), n_codes_below (codes flagged below ``threshold``).
    """
    lay, d = _double(corpus, coders, codes, rollup)
    st = _code_stats(d)
    table = agreement(corpus, coders=d.coders, codes=codes, threshold=threshold, rollup=rollup)
    pooled = _pooled(st)
    alphas = table["alpha"].dropna()
    u = len(d.units)
    return {
        "coders": d.coders,
        "n_documents": int(d.n_docs),
        "n_segments": int(u),
        "n_codes": int(len(d.sel)),
        "share_double_coded": float(_ratio(d.n_docs, lay.n_docs)),
        "pct_agreement": float(100 * st["po"].mean()) if u else float("nan"),
        "pooled_kappa": pooled,
        "pooled_kappa_band": kappa_band(pooled),
        "mean_alpha": float(alphas.mean()) if len(alphas) else float("nan"),
        "n_codes_below": int(table["flag"].str.startswith("below").sum()),
    }


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
