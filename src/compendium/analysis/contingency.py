"""Contingency tables: Fisher-Freeman-Halton p-values and the bias-corrected Cramér's V.

Methods and references: ``docs/methods.md#fisher-exact-test`` and
``docs/methods.md#cramers-v-bias-corrected``.

* :func:`fisher_rxc` gives the exact conditional p-value by complete enumeration of the
  tables with the observed margins when that is feasible (2×c or r×2 tables with at most
  ``max_tables`` candidate tables), otherwise a seeded Monte-Carlo estimate (SciPy
  ``fisher_exact`` with ``MonteCarloMethod``) together with its standard error
  ``sqrt(p(1 − p)/B)``.
* :func:`cramers_v_bc` is Bergsma's (2013) bias-corrected V; :func:`cramers_v_bootstrap`
  adds a seeded percentile bootstrap interval (resampling respondents).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compendium.errors import ParameterError

__all__ = ["cramers_v_bc", "cramers_v_bootstrap", "fisher_rxc"]

#: Relative tolerance when comparing table probabilities with the observed one (as R does).
_REL_TOL = 1e-7


def _table(observed: Any) -> np.ndarray:
    obs = np.asarray(observed)
    if obs.ndim != 2 or min(obs.shape) < 2:
        raise ParameterError("observed", f"needs a 2-D table of at least 2×2, not {obs.shape}")
    if np.any(obs < 0) or np.any(obs != np.round(obs)):
        raise ParameterError("observed", "cells must be non-negative whole counts")
    obs = obs.astype(np.int64)
    obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0]
    if min(obs.shape) < 2:
        raise ParameterError("observed", "needs at least two non-empty rows and columns")
    return obs


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _exact_two_row(obs: np.ndarray, max_tables: int) -> float | None:
    """Exact p for a 2×c table by enumerating the first row; None when too many tables."""
    obs = obs[:, np.argsort(obs.sum(axis=0), kind="stable")]  # largest column is implied
    cols = obs.sum(axis=0)
    r1 = int(obs[0].sum())
    if float(np.prod(cols[:-1].astype(float) + 1)) > max_tables:
        return None
    # log P(table) = sum_j log C(c_j, a_j) - log C(n, r1); the constant cancels in the ratio.
    obs_logp = float(_log_comb(cols, obs[0]).sum())
    grids = np.meshgrid(*[np.arange(c + 1) for c in cols[:-1]], indexing="ij", sparse=False)
    first = np.stack([g.ravel() for g in grids], axis=1)
    last = r1 - first.sum(axis=1)
    ok = (last >= 0) & (last <= cols[-1])
    tables = np.column_stack([first[ok], last[ok]])
    logp = _log_comb(cols[None, :], tables).sum(axis=1)
    total = np.exp(logp - obs_logp)
    # total / sum(total) are the table probabilities; p = P(table prob <= observed prob)
    keep = logp <= obs_logp + np.log1p(_REL_TOL)
    return float(min(1.0, total[keep].sum() / total.sum()))


def fisher_rxc(
    observed: Any, *, max_tables: int = 2_000_000, n_resamples: int = 99_999,
    seed: int = 20240501,
) -> dict[str, Any]:
    """Fisher-Freeman-Halton test of an r×c table: exact where feasible, else Monte-Carlo.

    Exact (complete enumeration of the tables with the observed margins) for 2×c and r×2
    tables with at most ``max_tables`` candidates; 2×2 uses ``scipy.stats.fisher_exact``.
    Otherwise a seeded Monte-Carlo estimate with ``n_resamples`` tables. Returns ``p``,
    ``p_method`` (``"exact"`` or ``"monte-carlo"``), ``p_se`` (0 when exact, else
    ``sqrt(p(1-p)/n_resamples)``) and ``n_resamples`` (0 when exact).
    """
    from scipy import stats as sps

    obs = _table(observed)
    if obs.shape == (2, 2):
        return {"p": float(sps.fisher_exact(obs).pvalue), "p_method": "exact", "p_se": 0.0,
                "n_resamples": 0}
    two_row = obs if obs.shape[0] == 2 else (obs.T if obs.shape[1] == 2 else None)
    if two_row is not None:
        p = _exact_two_row(two_row, max_tables)
        if p is not None:
            return {"p": p, "p_method": "exact", "p_se": 0.0, "n_resamples": 0}
    method = sps.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
    p = float(sps.fisher_exact(obs, method=method).pvalue)
    return {"p": p, "p_method": "monte-carlo", "p_se": float(np.sqrt(p * (1 - p) / n_resamples)),
            "n_resamples": int(n_resamples)}


def cramers_v_bc(observed: Any) -> float:
    """Bergsma's (2013) bias-corrected Cramér's V of an r×c table (0 when φ² ≤ its bias).

    φ̃² = max(0, χ²/n − (r−1)(c−1)/(n−1)), r̃ = r − (r−1)²/(n−1), c̃ = c − (c−1)²/(n−1),
    V = sqrt(φ̃² / min(r̃−1, c̃−1)); χ² is Pearson's, without continuity correction.
    """
    from scipy import stats as sps

    obs = _table(observed)
    return _v_bc(obs, float(sps.chi2_contingency(obs, correction=False)[0]))


def _pearson_chi2(tab: np.ndarray) -> float:
    """Pearson's χ² of a table without empty rows or columns, by the operations of SciPy's
    ``chi2_contingency(correction=False)`` in its order (the same float), without its
    per-call overhead (~1 ms: the bootstrap below calls it ``n_boot`` times)."""
    obs = tab.astype(np.float64)
    expected = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    return float((((obs - expected) ** 2) / expected).ravel().sum())


def _v_bc(obs: np.ndarray, chi2: float) -> float:
    """Bergsma's V of the table ``obs`` from its Pearson χ² (see :func:`cramers_v_bc`)."""
    n = float(obs.sum())
    r, c = obs.shape
    phi2 = max(0.0, chi2 / n - (r - 1) * (c - 1) / (n - 1))
    r_t = r - (r - 1) ** 2 / (n - 1)
    c_t = c - (c - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / min(r_t - 1, c_t - 1)))


def cramers_v_bootstrap(
    x: Any, y: Any, *, level: float = 0.95, n_boot: int = 999, seed: int = 20240501
) -> dict[str, float]:
    """Bias-corrected V of two paired categorical samples with a percentile bootstrap CI.

    Respondents (pairs) are resampled with replacement ``n_boot`` times from a seeded
    generator; resamples in which a variable keeps a single level count as V = 0.
    Returns ``v``, ``ci_low``, ``ci_high``.
    """
    xa, ya = np.asarray(x, dtype=object), np.asarray(y, dtype=object)
    if len(xa) != len(ya):
        raise ParameterError("x/y", f"need paired samples, got lengths {len(xa)} and {len(ya)}")
    if not 0 < level < 1:
        raise ParameterError("level", f"must lie strictly between 0 and 1, got {level!r}")
    xi = np.unique(xa.astype(str), return_inverse=True)[1]
    yi = np.unique(ya.astype(str), return_inverse=True)[1]
    r, c = xi.max() + 1, yi.max() + 1

    def v_of(idx: np.ndarray) -> float:
        tab = np.bincount(xi[idx] * c + yi[idx], minlength=r * c).reshape(r, c)
        tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
        return 0.0 if min(tab.shape) < 2 else _v_bc(tab, _pearson_chi2(tab))

    rng = np.random.default_rng(seed)
    n = len(xi)
    boots = np.array([v_of(rng.integers(0, n, n)) for _ in range(n_boot)])
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return {"v": v_of(np.arange(n)), "ci_low": float(lo), "ci_high": float(hi)}
