"""Dimensionality and reliability of a Likert battery beyond Cronbach's α.

See ``docs/methods.md#dimensionality-and-ordinal-reliability``:

* :func:`item_rest` — corrected item–total (item–rest) correlations;
* :func:`one_factor` — a one-factor maximum-likelihood model of the items' correlation
  matrix (statsmodels ``Factor(method="ml")``): loadings, the share of variance it explains,
  the eigenvalues of the correlation matrix and McDonald's ω;
* :func:`polychoric` and :func:`ordinal_alpha` — the two-step polychoric correlation
  (Olsson 1979) and ordinal α (Zumbo, Gadermann & Zeisser 2007): standardised α computed
  on the polychoric matrix.

Every function takes complete cases (rows with any item missing are dropped) and
returns ``n``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from compendium.errors import ParameterError

__all__ = ["item_rest", "omega", "one_factor", "ordinal_alpha", "polychoric",
           "standardised_alpha"]


def _complete(items: pd.DataFrame) -> pd.DataFrame:
    if items.shape[1] < 2:
        raise ParameterError("items", f"needs at least two item columns, has {items.shape[1]}")
    data = items.dropna(axis=0, how="any").astype(float)
    if len(data) < 3:
        raise ParameterError("items", f"only {len(data)} complete respondent(s); need 3")
    return data


def item_rest(items: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation of each item with the sum of the other items (complete cases)."""
    data = _complete(items)
    total = data.sum(axis=1)
    rows = [{"item": c, "r_rest": float(np.corrcoef(data[c], total - data[c])[0, 1])}
            for c in data.columns]
    out = pd.DataFrame(rows)
    out.attrs["n"] = int(len(data))
    return out


def omega(loadings: Any) -> float:
    """McDonald's ω of standardised one-factor loadings: (Σλ)² / ((Σλ)² + Σ(1 − λ²))."""
    lam = np.asarray(loadings, dtype=float)
    s = lam.sum() ** 2
    return float(s / (s + np.sum(1 - lam**2)))


def one_factor(items: pd.DataFrame) -> dict[str, Any]:
    """One-factor ML model of standardised items and the correlation matrix's eigenvalues.

    Returns ``loadings`` (Series, sign chosen so that most are positive),
    ``explained`` (mean squared loading: share of item variance the factor reproduces),
    ``eigenvalues`` (of the Pearson correlation matrix, descending), ``omega`` and ``n``.
    """
    import warnings

    from statsmodels.multivariate.factor import Factor  # imported on use

    data = _complete(items)
    corr = np.corrcoef(data.to_numpy(), rowvar=False)
    with warnings.catch_warnings():
        # a Heywood case (a uniqueness at 0) still gives the ML loadings; ω reads them as such
        warnings.filterwarnings("ignore", message="Some uniquenesses are nearly zero")
        fit = Factor(corr=corr, n_factor=1, method="ml", nobs=len(data)).fit(rng=0)
    lam = np.asarray(fit.loadings[:, 0], dtype=float)
    if np.sum(lam < 0) > len(lam) / 2:
        lam = -lam
    eig = np.sort(np.linalg.eigvalsh(corr))[::-1]
    return {"loadings": pd.Series(lam, index=data.columns), "explained": float(np.mean(lam**2)),
            "eigenvalues": eig, "omega": omega(lam), "n": int(len(data))}


def _thresholds(x: np.ndarray, levels: np.ndarray) -> np.ndarray:
    from scipy import stats as sps  # SciPy on use, not at import

    cum = np.cumsum([np.mean(x == v) for v in levels])[:-1]
    return np.r_[-np.inf, sps.norm.ppf(np.clip(cum, 1e-10, 1 - 1e-10)), np.inf]


def _polychoric_pair(x: np.ndarray, y: np.ndarray) -> float:
    from scipy import optimize
    from scipy import stats as sps

    lx, ly = np.unique(x), np.unique(y)
    if len(lx) < 2 or len(ly) < 2:
        return float("nan")
    tx, ty = _thresholds(x, lx), _thresholds(y, ly)
    counts = pd.crosstab(x, y).reindex(index=lx, columns=ly, fill_value=0).to_numpy()
    big = 10.0  # stands in for infinity in the bivariate normal CDF
    ax, ay = np.clip(tx, -big, big), np.clip(ty, -big, big)
    gx, gy = np.meshgrid(ax, ay, indexing="ij")
    points = np.column_stack([gx.ravel(), gy.ravel()])

    def negloglik(rho: float) -> float:
        cdf = sps.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf(points)
        cdf = cdf.reshape(gx.shape)
        cell = cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]
        return -float(np.sum(counts * np.log(np.clip(cell, 1e-300, None))))

    res = optimize.minimize_scalar(negloglik, bounds=(-0.995, 0.995), method="bounded",
                                   options={"xatol": 1e-5})
    return float(res.x)


def polychoric(items: pd.DataFrame) -> pd.DataFrame:
    """Polychoric correlation matrix of ordinal items (two-step ML, Olsson 1979).

    Thresholds come from each item's cumulative marginal proportions; each pair's
    correlation maximises the likelihood of its contingency table under a discretised
    standard bivariate normal (SciPy ``multivariate_normal.cdf``).
    """
    data = _complete(items)
    cols = list(data.columns)
    r = np.eye(len(cols))
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            r[i, j] = r[j, i] = _polychoric_pair(data[cols[i]].to_numpy(),
                                                  data[cols[j]].to_numpy())
    out = pd.DataFrame(r, index=cols, columns=cols)
    out.attrs["n"] = int(len(data))
    return out


def standardised_alpha(corr: Any) -> float:
    """Standardised α of a correlation matrix: k·r̄ / (1 + (k − 1)·r̄), r̄ the mean off-diagonal."""
    r = np.asarray(corr, dtype=float)
    k = r.shape[0]
    rbar = (r.sum() - np.trace(r)) / (k * (k - 1))
    return float(k * rbar / (1 + (k - 1) * rbar))


def ordinal_alpha(items: pd.DataFrame) -> dict[str, Any]:
    """Ordinal α: standardised α on the polychoric correlation matrix; returns ``alpha, n``."""
    corr = polychoric(items)
    return {"alpha": standardised_alpha(corr.to_numpy()), "n": corr.attrs["n"]}
