"""Intercoder agreement on double-coded interviews: per-code κ and α with bootstrap
intervals, pooled κ, and agreement on where excerpts start and end (segmentation).

Definitions: ``docs/methods.md#intercoder-agreement``, ``#pooled-kappa``,
``#bootstrap-intervals-for-agreement`` and ``#segmentation-agreement``.

Units: every segment of a document coded by BOTH coders that carries a coding from either
of them, crossed with each code (applied or not). By default an excerpt of the second coder
that overlaps an excerpt of the first (without the same range) is matched to it, so that
code agreement and boundary agreement are measured apart; :func:`segmentation_agreement`
reports how far the ranges themselves agree.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np
import pandas as pd

from compendium.analysis._layout import (
    _code_cols,
    _Layout,
    _layout,
    _pairs,
    _ratio,
    _select_codes,
)
from compendium.data.corpus import CodedCorpus
from compendium.errors import ParameterError

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


# --------------------------------------------------------------------------- two-rater statistics


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float:
    """Cohen's κ of two raters' 0/1 decisions (``statsmodels.stats.inter_rater.cohens_kappa``).

    NaN when only one value occurs in both (chance agreement is 1).
    """
    from statsmodels.stats.inter_rater import cohens_kappa  # SciPy with it: on use

    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    table = np.zeros((2, 2))
    np.add.at(table, (a, b), 1)
    if len(a) == 0 or (table[0, 0] == len(a)) or (table[1, 1] == len(a)):
        return float("nan")
    return float(cohens_kappa(table, return_results=False))


def binary_kappa_alpha(
    n11: np.ndarray, n10: np.ndarray, n01: np.ndarray, n00: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Cohen's κ and nominal Krippendorff's α from 2 x 2 cell counts.

    κ = (p_o - p_e) / (1 - p_e) with p_e from each rater's own margins; α = 1 - (n - 1)
    o_01 / (n_0 n_1) on the coincidence matrix of the 2u pairable values (Krippendorff
    2011, binary case), with o_01 = n10 + n01. NaN where a statistic is 0/0.
    """
    n11, n10, n01, n00 = (np.asarray(x, dtype=float) for x in (n11, n10, n01, n00))
    u = n11 + n10 + n01 + n00
    po = _ratio(n11 + n00, u)
    pa, pb = _ratio(n11 + n10, u), _ratio(n11 + n01, u)
    pe = pa * pb + (1 - pa) * (1 - pb)
    kappa = _ratio(po - pe, np.where(np.isclose(pe, 1.0), 0.0, 1 - pe))
    n = 2 * u
    n1 = 2 * n11 + n10 + n01
    n0 = n - n1
    alpha = 1 - _ratio((n - 1) * (n10 + n01), n0 * n1)
    alpha = np.where(n0 * n1 == 0, np.nan, alpha)
    return kappa, alpha


# --------------------------------------------------------------------------- the double-coded units


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
    docs: np.ndarray  # their positions
    units: np.ndarray  # segment positions of the units
    a: np.ndarray  # (U, K) bool decisions of coder a
    b: np.ndarray
    sel: np.ndarray  # selected code positions


MATCHES = ("overlap", "exact")


def _match_overlapping(
    corpus: CodedCorpus, lay: _Layout, seg_a: np.ndarray, seg_b: np.ndarray, docs: np.ndarray
) -> np.ndarray:
    """Coder b's segments, each moved onto coder a's segment it overlaps most (same document;
    ties to the earlier start) unless a excerpted exactly the same range."""
    start = corpus.segments["start"].to_numpy(dtype=np.int64)
    end = corpus.segments["end"].to_numpy(dtype=np.int64)
    out = seg_b.copy()
    own = np.unique(seg_a)
    todo = ~np.isin(seg_b, own) & np.isin(lay.seg_doc[seg_b], docs)
    for d in np.unique(lay.seg_doc[seg_b[todo]]):  # loop over double-coded documents
        cand = own[lay.seg_doc[own] == d]
        rows = np.flatnonzero(todo & (lay.seg_doc[seg_b] == d))
        b = seg_b[rows]
        overlap = np.minimum(end[b][:, None], end[cand][None, :]) - np.maximum(
            start[b][:, None], start[cand][None, :]
        )
        overlap = np.where(overlap > 0, overlap, 0)
        if len(cand) == 0:
            continue
        # argmax over candidates sorted by start: ties go to the earlier start
        order = np.argsort(start[cand], kind="stable")
        best = order[np.argmax(overlap[:, order], axis=1)]
        hit = overlap[np.arange(len(b)), best] > 0
        out[rows[hit]] = cand[best[hit]]
    return out


def _double(
    corpus: CodedCorpus,
    coders: Sequence[str] | None,
    codes: Iterable[str] | None,
    rollup: bool,
    match: str = "overlap",
) -> tuple[_Layout, _Double]:
    if match not in MATCHES:
        raise ParameterError("match", f"unknown value {match!r}", allowed=list(MATCHES))
    lay = _layout(corpus)
    sel = _select_codes(lay, codes)
    cod = corpus.codings
    pair = _pick_coders(cod, coders)
    per = []
    for coder in pair:  # loop over the two coders
        seg, code = _pairs(lay, cod.loc[cod["coder"] == coder], rollup)
        per.append((seg, code))
    docs = np.intersect1d(lay.seg_doc[per[0][0]], lay.seg_doc[per[1][0]])
    if match == "overlap":
        per[1] = (_match_overlapping(corpus, lay, per[0][0], per[1][0], docs), per[1][1])
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
    return lay, _Double(pair, len(docs), docs, units, mats[0], mats[1], sel)


def _cells(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """2 x 2 cell counts per column of two (U, K) 0/1 arrays (or (B, U, K) along axis -2)."""
    a = a.astype(np.int64)
    b = b.astype(np.int64)
    n11 = (a * b).sum(-2)
    n10 = (a * (1 - b)).sum(-2)
    n01 = ((1 - a) * b).sum(-2)
    n00 = ((1 - a) * (1 - b)).sum(-2)
    return n11, n10, n01, n00


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


def _bootstrap(
    d: _Double, n_boot: int, ci_level: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Percentile intervals of κ and α per code from ``n_boot`` resamples of the units.

    Units (segments) are drawn with replacement with ``numpy.random.default_rng(seed)``;
    replicates where a statistic is undefined (one value only) are left out; an interval
    needs at least half of the replicates defined, else it is NaN.
    """
    k = len(d.sel)
    u = len(d.units)
    nan = np.full(k, np.nan)
    if u == 0 or n_boot <= 0:
        return nan, nan.copy(), nan.copy(), nan.copy()
    rng = np.random.default_rng(seed)
    a = d.a[:, d.sel]
    b = d.b[:, d.sel]
    cells = [np.zeros((n_boot, k), dtype=np.int64) for _ in range(4)]
    chunk = max(1, 2_000_000 // max(1, u * k))
    for start in range(0, n_boot, chunk):  # loop over chunks of replicates (memory bound)
        idx = rng.integers(0, u, size=(min(chunk, n_boot - start), u))
        for cell, part in zip(cells, _cells(a[idx], b[idx]), strict=True):
            cell[start : start + len(idx)] = part
    kap, alp = binary_kappa_alpha(*cells)
    lo_q, hi_q = 100 * (1 - ci_level) / 2, 100 * (1 + ci_level) / 2

    def interval(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = ~np.isnan(x)
        enough = ok.sum(0) >= n_boot / 2
        lo = np.where(enough, np.nanpercentile(np.where(ok, x, np.nan), lo_q, axis=0), np.nan)
        hi = np.where(enough, np.nanpercentile(np.where(ok, x, np.nan), hi_q, axis=0), np.nan)
        return lo, hi

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as meant
        k_lo, k_hi = interval(kap)
        a_lo, a_hi = interval(alp)
    return k_lo, k_hi, a_lo, a_hi


# --------------------------------------------------------------------------- public measures


def agreement(
    corpus: CodedCorpus,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
    threshold: float = 0.6,
    rollup: bool = False,
    n_boot: int = 0,
    ci_level: float = 0.95,
    seed: int = 0,
    match: str = "overlap",
) -> pd.DataFrame:
    """Per-code intercoder agreement between two coders (methods.md "Intercoder agreement").

    ``coders`` defaults to the two coders with the most codings (ties by name). Codes are
    judged on their own codings (``rollup=False``) unless asked. ``match="overlap"`` (the
    default) moves an excerpt of the second coder onto the first coder's excerpt it overlaps
    most, so that a boundary cut differently is not counted as a code disagreement (boundaries
    are measured by :func:`segmentation_agreement`); ``match="exact"`` keeps every range a
    unit of its own.

    Columns: code_id, title, level, parent_id, n_units, n_a, n_b (units each coder applied
    the code to), n_both, pct_agreement, kappa (Cohen, ``statsmodels``), alpha
    (``krippendorff.alpha``, nominal), and with ``n_boot`` > 0 the percentile bootstrap
    interval of each (kappa_lo, kappa_hi, alpha_lo, alpha_hi; see :func:`_bootstrap`), then
    flag. kappa and alpha are NaN when only one value occurs: flag "not applied in subset"
    (pct_agreement 100) or "applied to every unit". Otherwise flag "below <threshold>" when
    kappa < threshold, else "". With no double-coded units every statistic is NaN and flag
    "no double-coded units".
    """
    lay, d = _double(corpus, coders, codes, rollup, match)
    st = _code_stats(d)
    u = len(d.units)
    kappa = np.full(len(d.sel), np.nan)
    alpha = np.full(len(d.sel), np.nan)
    flags = []
    for j, c in enumerate(d.sel):  # loop over codes
        va, vb = d.a[:, c].astype(np.int64), d.b[:, c].astype(np.int64)
        both_values = u > 0 and 0 < va.sum() + vb.sum() < 2 * u
        if both_values:
            kappa[j] = cohen_kappa(va, vb)
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
    if n_boot > 0:
        k_lo, k_hi, a_lo, a_hi = _bootstrap(d, n_boot, ci_level, seed)
        out["kappa_lo"], out["kappa_hi"] = k_lo, k_hi
        out["alpha_lo"], out["alpha_hi"] = a_lo, a_hi
    out["flag"] = pd.Series(flags, dtype=object)
    return out


def _informative(st: pd.DataFrame) -> np.ndarray:
    """Codes whose decisions vary (applied to some units, not to all): p_e < 1."""
    return ~np.isclose(st["pe"].to_numpy(dtype=float), 1.0)


def _pooled(st: pd.DataFrame, exclude_unused: bool = True) -> float:
    if exclude_unused:
        st = st[_informative(st)]
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
    exclude_unused: bool = True,
    match: str = "overlap",
) -> float:
    """Pooled kappa across codes (De Vries et al. 2008): (Σ p_o - Σ p_e) / (K - Σ p_e).

    p_o, p_e = observed and chance agreement of each code on the units of :func:`agreement`.
    With ``exclude_unused`` (the default) codes with p_e = 1 (never applied, or applied to
    every unit, by both coders in the subset) are left out and counted separately (see
    :func:`agreement_summary`). Each such code adds 1 to Σ p_o, Σ p_e and K, so the pooled
    value is the same either way; what they inflate is the percent agreement and the apparent
    number of codes checked (methods.md "Pooled kappa").
    """
    _, d = _double(corpus, coders, codes, rollup, match)
    return _pooled(_code_stats(d), exclude_unused)


def agreement_summary(
    corpus: CodedCorpus,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
    threshold: float = 0.6,
    rollup: bool = False,
    match: str = "overlap",
) -> dict:
    """Headline agreement figures for a report.

    Keys: coders, n_documents (coded by both), n_segments (units), n_codes,
    n_codes_pooled (codes entering the pooled κ), n_codes_excluded (never applied by either
    coder in the subset, or applied to every unit), share_double_coded (n_documents / all
    documents), pct_agreement (agreeing segment x code decisions over the pooled codes,
    x100), pct_agreement_all_codes (the same over every code, inflated by unused codes),
    pooled_kappa, pooled_kappa_band, mean_alpha (mean of the defined per-code alphas),
    n_codes_below (codes flagged below ``threshold``).
    """
    lay, d = _double(corpus, coders, codes, rollup, match)
    st = _code_stats(d)
    table = agreement(
        corpus, coders=d.coders, codes=codes, threshold=threshold, rollup=rollup, match=match
    )
    pooled = _pooled(st, exclude_unused=True)
    alphas = table["alpha"].dropna()
    u = len(d.units)
    informative = _informative(st)
    used = int(informative.sum()) if u else 0
    return {
        "coders": d.coders,
        "n_documents": int(d.n_docs),
        "n_segments": int(u),
        "n_codes": int(len(d.sel)),
        "n_codes_pooled": used,
        "n_codes_excluded": int(len(d.sel) - used),
        "share_double_coded": float(_ratio(d.n_docs, lay.n_docs)),
        "pct_agreement": float(100 * st.loc[informative, "po"].mean())
        if u and used
        else float("nan"),
        "pct_agreement_all_codes": float(100 * st["po"].mean()) if u else float("nan"),
        "pooled_kappa": pooled,
        "pooled_kappa_band": kappa_band(pooled),
        "mean_alpha": float(alphas.mean()) if len(alphas) else float("nan"),
        "n_codes_below": int(table["flag"].str.startswith("below").sum()),
    }


# --------------------------------------------------------------------------- segmentation


def _covered(ranges: pd.DataFrame) -> list[tuple[int, int]]:
    """Disjoint sorted character intervals covered by the (start, end) ranges (end exclusive)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(zip(ranges["start"], ranges["end"], strict=True)):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((int(s), int(e)))
    return out


def _length(iv: list[tuple[int, int]]) -> int:
    return sum(e - s for s, e in iv)


def _intersection(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> int:
    i = j = total = 0
    while i < len(x) and j < len(y):  # merge of two sorted interval lists
        lo, hi = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        total += max(0, hi - lo)
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def segmentation_agreement(
    corpus: CodedCorpus, coders: Sequence[str] | None = None
) -> pd.DataFrame:
    """Agreement on where excerpts start and end, per document coded by both coders.

    For each coder: the characters covered by the excerpts they coded (any code), and their
    excerpt ranges. Columns: doc_id, n_excerpts_a, n_excerpts_b, n_same_range (ranges both
    coders excerpted exactly), chars_a, chars_b, chars_both, jaccard = chars_both /
    (chars_a + chars_b - chars_both) (NaN when neither covers a character), and
    boundary_match = 2 n_same_range / (n_excerpts_a + n_excerpts_b) (Dice on exact ranges).
    Documents in position order.
    """
    cod = corpus.codings
    pair = _pick_coders(cod, coders)
    seg = corpus.segments.set_index("segment_id")
    docs = corpus.documents.sort_values("position", kind="stable")["doc_id"]
    per = []
    for coder in pair:  # loop over the two coders: each one's ranges, grouped by document once
        ids = cod.loc[cod["coder"] == coder, "segment_id"].unique()
        ranges = seg.loc[ids, ["doc_id", "start", "end"]]
        per.append({doc: part for doc, part in ranges.groupby("doc_id", sort=False)})
    rows = []
    for doc in docs:  # loop over documents
        ra, rb = per[0].get(doc), per[1].get(doc)
        if ra is None or rb is None:
            continue
        ca, cb = _covered(ra), _covered(rb)
        both = _intersection(ca, cb)
        la, lb = _length(ca), _length(cb)
        same = len(
            set(zip(ra["start"], ra["end"], strict=True))
            & set(zip(rb["start"], rb["end"], strict=True))
        )
        rows.append((doc, len(ra), len(rb), same, la, lb, both))
    out = pd.DataFrame(
        rows,
        columns=[
            "doc_id",
            "n_excerpts_a",
            "n_excerpts_b",
            "n_same_range",
            "chars_a",
            "chars_b",
            "chars_both",
        ],
    )
    out = out.astype({c: np.int64 for c in out.columns if c != "doc_id"})
    out["jaccard"] = _ratio(out["chars_both"], out["chars_a"] + out["chars_b"] - out["chars_both"])
    out["boundary_match"] = _ratio(
        2 * out["n_same_range"], out["n_excerpts_a"] + out["n_excerpts_b"]
    )
    return out


def segmentation_summary(seg: pd.DataFrame) -> dict:
    """Totals of :func:`segmentation_agreement`: n_documents, jaccard (pooled characters),
    boundary_match (pooled ranges), min_jaccard (the least agreeing document)."""
    inter = int(seg["chars_both"].sum())
    union = int((seg["chars_a"] + seg["chars_b"] - seg["chars_both"]).sum())
    ranges = int((seg["n_excerpts_a"] + seg["n_excerpts_b"]).sum())
    return {
        "n_documents": int(len(seg)),
        "jaccard": float(_ratio(inter, union)),
        "boundary_match": float(_ratio(2 * int(seg["n_same_range"].sum()), ranges)),
        "min_jaccard": float(seg["jaccard"].min()) if len(seg) else float("nan"),
    }
