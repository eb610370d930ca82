"""Regression models and design quantities for the survey (see ``docs/methods.md`` section 1).

* :func:`firth_logistic`: Firth-penalised logistic regression (:mod:`.firth`) with
  profile penalised-likelihood intervals and penalised likelihood-ratio p-values, and a
  linear-programming separation check (Konis 2007) that marks terms whose ordinary
  maximum-likelihood estimate would be infinite (``docs/methods.md#firth-logistic-regression``).
* :func:`multinomial_logit`: the outcome as asked (e.g. yes / no / don't know) with
  statsmodels ``MNLogit`` (``docs/methods.md#multinomial-logit``).
* :func:`adjusted_difference`: OLS with HC3 or cluster-robust standard errors
  (``docs/methods.md#mode-adjusted-models``).
* :func:`min_detectable_difference`: smallest difference a two-group test can detect
  (``docs/methods.md#minimum-detectable-difference``).
* :func:`design_effect` and :func:`poststrat_weights`
  (``docs/methods.md#clustering-and-weights``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis.stats import dummy_code
from compendium.errors import ParameterError

__all__ = [
    "adjusted_difference",
    "design_effect",
    "design_matrix",
    "firth_logistic",
    "min_detectable_difference",
    "multinomial_logit",
    "poststrat_weights",
]


def design_matrix(
    data: pd.DataFrame, predictors: Sequence[str], reference: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`compendium.analysis.stats.dummy_code` with booleans as levels (``col[T.True]``).

    ``data`` must have no missing values. Returns the design (without intercept) and the
    reference of each categorical column.
    """
    return dummy_code(data, predictors, reference, bool_as_levels=True)


def _binary(y: pd.Series, name: str) -> np.ndarray:
    if y.dtype == bool or str(y.dtype) == "boolean":
        y = y.astype(int)
    if not set(pd.unique(y)) <= {0, 1}:
        raise ParameterError("outcome", f"column {name!r} must be coded 0/1 or boolean",
                             allowed=[0, 1])
    if y.nunique() < 2:
        raise ParameterError("outcome", f"column {name!r} has only one value")
    return y.to_numpy(dtype=float)


def firth_logistic(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str],
    reference: Mapping[str, Any] | None = None, *, level: float = 0.95,
) -> pd.DataFrame:
    """Firth logistic regression with profile-likelihood CIs and a separation check.

    Rows with a missing outcome or predictor are dropped. Returns one row per term
    (``Intercept`` first): ``term, coef, odds_ratio, or_ci_low, or_ci_high`` (profile
    penalised-likelihood interval, Heinze & Schemper 2002), ``p`` (penalised likelihood
    ratio test) and ``p_test`` (``"LRT"``, or ``"Wald"`` where the constrained fit failed),
    ``n_events`` and ``n_nonevents`` among rows where a dummy term is 1 (NaN for numeric
    terms), and ``separated`` (True when the ordinary ML estimate of the term is infinite:
    complete or quasi-complete separation, Konis 2007). ``attrs`` holds ``n``,
    ``separation`` (any term separated) and ``reference``.
    """
    from compendium.analysis.firth import firth_fit, infinite_ml

    if not 0 < level < 1:
        raise ParameterError("level", f"must lie strictly between 0 and 1, got {level!r}")
    missing = [c for c in [outcome, *predictors] if c not in df.columns]
    if missing:
        raise ParameterError("outcome/predictors", f"column(s) {missing} not in the data frame")
    data = df[[outcome, *predictors]].dropna()
    y = _binary(data[outcome], outcome)
    X, refs = design_matrix(data, predictors, reference)
    Xc = np.column_stack([np.ones(len(X)), X.to_numpy()])
    terms = ["Intercept", *X.columns]
    infinite = infinite_ml(Xc, y, names=terms)
    fit = firth_fit(Xc, y, level=level)
    # penalised LRT p; where its constrained fit fails, the Wald p (column p_test says which)
    lrt_failed = np.isnan(fit.p_lrt)
    events = np.array([np.nan] + [float(y[X[t].to_numpy() == 1].sum()) if t.endswith("]")
                                  else np.nan for t in X.columns])
    totals = np.array([np.nan] + [float((X[t].to_numpy() == 1).sum()) if t.endswith("]")
                                  else np.nan for t in X.columns])
    out = pd.DataFrame({
        "term": terms,
        "coef": fit.coef,
        "odds_ratio": np.exp(fit.coef),
        "or_ci_low": np.exp(fit.ci_low),
        "or_ci_high": np.exp(fit.ci_high),
        "p": np.where(lrt_failed, fit.p_wald, fit.p_lrt),
        "p_test": np.where(lrt_failed, "Wald", "LRT"),
        "n_events": events,
        "n_nonevents": totals - events,
        "separated": infinite,
    })
    out.attrs.update(n=int(len(data)), separation=bool(infinite.any()), reference=refs)
    return out


def multinomial_logit(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], base: Any,
    reference: Mapping[str, Any] | None = None, *, level: float = 0.95,
) -> pd.DataFrame:
    """Multinomial logit (statsmodels ``MNLogit``) of a categorical outcome against ``base``.

    One row per (outcome level, term): ``level, term, rrr`` (relative risk ratio
    exp(coef)), Wald ``rrr_ci_low, rrr_ci_high``, ``p`` and ``separated`` (the binary
    sub-model "level vs base" is separated on that term, so its estimate is not finite and
    the row must not be read as an effect). ``attrs``: ``n``, ``converged``, ``base``.
    """
    import statsmodels.api as sm
    from scipy import stats as sps

    from compendium.analysis.firth import infinite_ml

    data = df[[outcome, *predictors]].dropna()
    levels = [base, *sorted(v for v in data[outcome].unique() if v != base)]
    if base not in set(data[outcome]):
        raise ParameterError("base", f"level {base!r} of {outcome!r} not observed")
    X, refs = design_matrix(data, predictors, reference)
    Xc = sm.add_constant(X, has_constant="add").rename(columns={"const": "Intercept"})
    y = data[outcome].map({lev: i for i, lev in enumerate(levels)}).to_numpy()
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        # separated pairs diverge (flagged below); statsmodels warns about it
        warnings.simplefilter("ignore")
        res = sm.MNLogit(y, Xc).fit(method="newton", maxiter=200, disp=False)
    z = sps.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(over="ignore", invalid="ignore"):
        params, bse, pvals = (np.asarray(a) for a in (res.params, res.bse, res.pvalues))
    rows = []
    for j, lev in enumerate(levels[1:]):
        pair = np.isin(y, [0, j + 1])
        finite = ~infinite_ml(Xc.to_numpy()[pair], (y[pair] == j + 1).astype(float),
                              names=list(Xc.columns))
        for k, term in enumerate(Xc.columns):
            b, se = float(params[k, j]), float(bse[k, j])
            with np.errstate(over="ignore"):
                rrr, lo, hi = np.exp(b), np.exp(b - z * se), np.exp(b + z * se)
            rows.append({"level": lev, "term": term, "rrr": rrr,
                         "rrr_ci_low": lo, "rrr_ci_high": hi,
                         "p": float(pvals[k, j]), "separated": not finite[k]})
    out = pd.DataFrame(rows)
    out.attrs.update(n=int(len(data)), converged=bool(res.mle_retvals.get("converged", False)),
                     base=base, reference=refs)
    return out


def adjusted_difference(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], term: str,
    reference: Mapping[str, Any] | None = None, *, cluster: str | None = None,
    level: float = 0.95,
) -> dict[str, Any]:
    """OLS coefficient of one dummy ``term`` adjusted for the other predictors.

    Heteroscedasticity-consistent (HC3) standard errors, or cluster-robust ones (CR1,
    statsmodels ``cov_type="cluster"``) when ``cluster`` names a column. Returns ``estimate,
    ci_low, ci_high, p, n`` and ``cov_type``.
    """
    import statsmodels.api as sm

    cols = [outcome, *predictors, *([cluster] if cluster else [])]
    data = df[cols].dropna()
    X, _ = design_matrix(data, predictors, reference)
    if term not in X.columns:
        raise ParameterError("term", f"{term!r} is not a model term", allowed=list(X.columns))
    Xc = sm.add_constant(X, has_constant="add")
    ols = sm.OLS(data[outcome].to_numpy(dtype=float), Xc)
    if cluster:
        groups = pd.factorize(data[cluster])[0]
        res = ols.fit(cov_type="cluster", cov_kwds={"groups": groups})
    else:
        res = ols.fit(cov_type="HC3")
    lo, hi = res.conf_int(alpha=1 - level).loc[term]
    return {"estimate": float(res.params[term]), "ci_low": float(lo), "ci_high": float(hi),
            "p": float(res.pvalues[term]), "n": int(len(data)),
            "cov_type": "cluster" if cluster else "HC3"}


def min_detectable_difference(
    n1: int, n2: int, *, alpha: float = 0.05, power: float = 0.8, p0: float | None = None,
    sd: float | None = None,
) -> float:
    """Smallest true difference a two-sided two-group test detects with ``power``.

    With ``sd`` (a score): Cohen's d from the two-sample t-test power equation
    (statsmodels ``TTestIndPower``) times ``sd``. With ``p0`` (a proportion in group 2):
    Cohen's h from the normal power equation (``NormalIndPower``), converted back to the
    proportion difference p1 − p0 above ``p0`` (h = 2·asin√p1 − 2·asin√p0).
    """
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    if (p0 is None) == (sd is None):
        raise ParameterError("p0/sd", "give exactly one of p0 (proportion) or sd (score)")
    if min(n1, n2) < 2:
        raise ParameterError("n1/n2", f"each group needs at least 2 respondents, got {n1}, {n2}")
    ratio = n2 / n1
    if sd is not None:
        d = TTestIndPower().solve_power(nobs1=n1, ratio=ratio, alpha=alpha, power=power)
        return float(d * sd)
    h = NormalIndPower().solve_power(nobs1=n1, ratio=ratio, alpha=alpha, power=power)
    angle = 2 * np.arcsin(np.sqrt(p0)) + h
    p1 = np.sin(min(angle, np.pi) / 2) ** 2
    return float(p1 - p0)


def design_effect(y: Any, cluster: Any) -> dict[str, float]:
    """Design effect of a mean under clustering: cluster-robust over SRS variance.

    deff = Var_CR(ȳ) / Var_SRS(ȳ), where Var_SRS = s²/n and Var_CR = Σ_g (Σ_i∈g e_i)² / n²
    (the sandwich variance of an intercept-only model, without small-sample factor).
    Also the intraclass correlation implied by Kish's deff = 1 + (m̄ − 1)·ICC. Returns
    ``deff, icc, n, clusters, mean_cluster_size``.
    """
    ya = np.asarray(y, dtype=float)
    ga = np.asarray(cluster)
    keep = ~np.isnan(ya) & pd.notna(ga)
    ya, ga = ya[keep], ga[keep]
    n = len(ya)
    codes = pd.factorize(ga)[0]
    k = int(codes.max() + 1) if n else 0
    if k < 2 or n < 3:
        raise ParameterError("cluster", f"need at least 2 clusters and 3 values, got {k}, {n}")
    e = ya - ya.mean()
    v_srs = e.var(ddof=1) / n
    v_cr = float(np.sum(np.bincount(codes, weights=e) ** 2)) / n**2
    deff = v_cr / v_srs
    m = n / k
    return {"deff": float(deff), "icc": float((deff - 1) / (m - 1)) if m > 1 else float("nan"),
            "n": int(n), "clusters": k, "mean_cluster_size": float(m)}


def poststrat_weights(cells: pd.Series, margins: Mapping[Any, float]) -> pd.Series:
    """Post-stratification weights: population share / sample share of each cell, mean 1.

    ``margins`` maps every cell value to its population share (renormalised to sum 1). A
    cell in the sample without a margin, or a margin without respondents, raises
    :class:`ParameterError` (weighting cannot create respondents).
    """
    s = pd.Series(cells)
    if s.isna().any():
        raise ParameterError("cells", f"{int(s.isna().sum())} respondent(s) have no cell")
    share = pd.Series(dict(margins), dtype=float)
    if (share < 0).any() or share.sum() <= 0:
        raise ParameterError("margins", "shares must be non-negative and sum above 0")
    share = share / share.sum()
    observed = s.value_counts(normalize=True)
    unknown = sorted(map(str, set(observed.index) - set(share.index)))
    empty = sorted(map(str, set(share.index[share > 0]) - set(observed.index)))
    if unknown or empty:
        raise ParameterError("margins", f"cells without a margin {unknown}; margins without "
                             f"respondents {empty}")
    return (s.map(share) / s.map(observed)).astype(float).rename("weight")


# Every warning of a fit is kept with its result and shown on the page as a note in the
# page's language (compendium.analysis.fitwarnings); nothing is silenced here.
from compendium.analysis.fitwarnings import noted  # noqa: E402

firth_logistic = noted(firth_logistic)
multinomial_logit = noted(multinomial_logit)
adjusted_difference = noted(adjusted_difference)
