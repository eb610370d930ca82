"""Survey statistics: small pure functions on DataFrames, one library call each.

SciPy and statsmodels are imported inside the functions that use them (on first call):
a process that never runs a test does not pay their ~1 s import.

Each method, its formula, library and reference are in ``docs/methods.md`` section 1;
every docstring names its anchor there. Conventions used throughout:

* Proportions are reported in percent (0-100) with a Wilson interval
  (``proportion_confint(..., method="wilson")``; the statsmodels default is the
  normal approximation, so the method is always passed).
* Missing values are dropped before a test and the number of rows actually used
  is returned as ``n``.
* χ² and Cramér's V are always computed *without* the Yates continuity
  correction (``correction=False``), also on 2×2 tables.
* Bad arguments raise :class:`compendium.errors.ParameterError` naming the
  argument, before any library is called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis.contingency import cramers_v_bc, fisher_rxc
from compendium.errors import ParameterError

__all__ = [
    "P_ADJUST_METHODS",
    "adjust_pvalues",
    "chi2_test",
    "cronbach",
    "dummy_code",
    "kruskal_test",
    "logistic",
    "multi_response_table",
    "mwu_test",
    "proportion_table",
    "test_family",
    "wilson_ci",
]

#: Multiple-testing corrections accepted by :func:`adjust_pvalues`.
P_ADJUST_METHODS = ("holm", "fdr_bh", "bonf", "none")
#: Their names in ``statsmodels.stats.multitest.multipletests``.
_MULTIPLETESTS = {"holm": "holm", "fdr_bh": "fdr_bh", "bonf": "bonferroni"}

MISSING_LABEL = "(missing)"


# --------------------------------------------------------------------------- helpers
def _check_level(level: float, name: str = "level") -> float:
    if not isinstance(level, (int, float)) or not 0 < float(level) < 1:
        raise ParameterError(name, f"must be a number strictly between 0 and 1, got {level!r}")
    return float(level)


def _check_columns(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ParameterError(
            name, f"column(s) {missing} not in the data frame", allowed=list(df.columns)
        )


# --------------------------------------------------------------------------- proportions
def wilson_ci(k: Any, n: Any, level: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for ``k`` successes out of ``n``, as proportions (0-1).

    Scalars give a ``(low, high)`` tuple of floats; arrays give a tuple of arrays.
    ``n == 0`` gives ``(nan, nan)``. Computed by statsmodels ``proportion_confint``
    with ``method="wilson"`` (``docs/methods.md#wilson-interval``).
    """
    from statsmodels.stats.proportion import proportion_confint

    level = _check_level(level)
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    k_arr, n_arr = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    if np.any(np.isnan(k_arr)) or np.any(np.isnan(n_arr)):
        raise ParameterError("k/n", "counts must not be missing")
    if np.any(k_arr < 0) or np.any(n_arr < 0) or np.any(k_arr > n_arr):
        raise ParameterError("k/n", "need 0 <= k <= n", allowed="non-negative counts, k <= n")
    empty = n_arr == 0
    low, high = proportion_confint(
        k_arr, np.where(empty, 1.0, n_arr), alpha=1 - level, method="wilson"
    )
    # Wilson bounds are exactly 0 at k = 0 and 1 at k = n; remove floating-point dust.
    low = np.where(k_arr == 0, 0.0, np.clip(np.asarray(low, dtype=float), 0.0, 1.0))
    high = np.where(k_arr == n_arr, 1.0, np.clip(np.asarray(high, dtype=float), 0.0, 1.0))
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    if scalar:
        return float(low), float(high)
    return low, high


def _percent_frame(labels: list, counts: np.ndarray, base: int, level: float) -> pd.DataFrame:
    counts = np.asarray(counts, dtype=int)
    bases = np.full(len(counts), base)
    low, high = wilson_ci(counts, bases, level)
    pct = counts / base * 100 if base > 0 else np.full(len(counts), np.nan)
    return pd.DataFrame(
        {
            "n": counts,
            "pct": np.asarray(pct, dtype=float),
            "ci_low": np.asarray(low, dtype=float) * 100,
            "ci_high": np.asarray(high, dtype=float) * 100,
        },
        index=pd.Index(labels),
    )


def proportion_table(
    series: pd.Series,
    level: float = 0.95,
    categories: Sequence | None = None,
    dropna: bool = True,
) -> pd.DataFrame:
    """One-way frequency table with Wilson intervals, in percent.

    Columns ``category, n, pct, ci_low, ci_high``; ``pct`` and the interval are
    percentages (0-100) of the base. Every category appears, in order, including
    zero-count ones: the order is ``categories`` if given, else the categories of
    a Categorical, else the sorted distinct values. A value outside
    ``categories`` raises :class:`ParameterError` (nothing is dropped silently).

    The base (``df.attrs["base"]``) is the number of non-missing answers; with
    ``dropna=False`` missing answers form a last category ``"(missing)"`` and
    count in the base.
    """
    level = _check_level(level)
    s = pd.Series(series)
    if categories is not None:
        cats = list(categories)
        if len(set(cats)) != len(cats):
            raise ParameterError("categories", "contains duplicates", allowed=cats)
    elif isinstance(s.dtype, pd.CategoricalDtype):
        cats = list(s.cat.categories)
    else:
        cats = sorted(s.dropna().unique().tolist())
    present = s.dropna()
    unknown = sorted({str(v) for v in present.unique().tolist() if v not in set(cats)})
    if unknown:
        raise ParameterError(
            "categories", f"series {s.name!r} has values {unknown} not listed", allowed=cats
        )
    values = present.astype(object)
    counts = [int((values == c).sum()) for c in cats]
    labels = list(cats)
    n_missing = int(s.isna().sum())
    if not dropna:
        labels.append(MISSING_LABEL)
        counts.append(n_missing)
    base = int(sum(counts))
    out = _percent_frame(labels, np.array(counts), base, level)
    out = out.rename_axis("category").reset_index()
    out.attrs["base"] = base
    out.attrs["n_missing"] = n_missing
    return out


def multi_response_table(
    df_bool: pd.DataFrame,
    level: float = 0.95,
    labels: Mapping[str, str] | Sequence[str] | None = None,
    sort: bool = True,
) -> pd.DataFrame:
    """Multiple-response question: share of respondents choosing each option.

    Method: ``docs/methods.md#multiple-response``.
    ``df_bool`` has one 0/1 (or boolean) column per option, missing allowed.
    Respondents with every option missing did not answer the question and are
    excluded; the base (``df.attrs["base"]``) is respondents with at least one
    non-missing answer, and a missing option among them counts as not chosen.

    Columns ``option, n, pct, ci_low, ci_high`` (percent of respondents, Wilson
    interval), ranked by ``n`` descending (ties keep column order) unless
    ``sort=False``. Respondents may choose several options, so the percentages
    sum past 100 %: they are not shares of answers.
    """
    level = _check_level(level)
    if df_bool.shape[1] == 0:
        raise ParameterError("df_bool", "has no option columns")
    for col in df_bool.columns:
        vals = df_bool[col].dropna()
        bad = vals[~vals.isin([0, 1, True, False])]
        if len(bad):
            value = bad.iloc[0]
            value = value.item() if hasattr(value, "item") else value
            raise ParameterError(
                "df_bool",
                f"column {col!r}, index {bad.index[0]!r}: value {value!r} is not 0/1",
                allowed="0, 1, True, False or missing",
            )
    answered = df_bool.notna().any(axis=1)
    sub = df_bool.loc[answered]
    base = int(answered.sum())
    counts = np.array(
        [int(sub[c].fillna(0).astype(float).sum()) for c in df_bool.columns], dtype=int
    )
    if labels is None:
        names = [str(c) for c in df_bool.columns]
    elif isinstance(labels, Mapping):
        names = [str(labels.get(c, c)) for c in df_bool.columns]
    else:
        names = list(labels)
        if len(names) != df_bool.shape[1]:
            raise ParameterError(
                "labels", f"has {len(names)} labels for {df_bool.shape[1]} option columns"
            )
    out = _percent_frame(names, counts, base, level).rename_axis("option").reset_index()
    if sort:
        out = out.sort_values("n", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs["base"] = base
    return out


# --------------------------------------------------------------------------- tests
def chi2_test(
    df: pd.DataFrame,
    x: str,
    y: str,
    min_expected: float = 5,
    *,
    seed: int = 20240501,
    n_resamples: int = 99_999,
) -> dict[str, Any]:
    """χ² test of independence of ``x`` and ``y``, with Cramér's V; Fisher when counts are small.

    Method: ``docs/methods.md#chi-squared-test``, ``#fisher-exact-test`` and
    ``#cramers-v-bias-corrected``. Rows with ``x`` or ``y`` missing are dropped (``n`` is
    what remains). ``scipy.stats.chi2_contingency(..., correction=False)`` gives ``chi2`` and
    ``dof`` (no Yates correction, also on 2×2); ``cramers_v`` = √(χ²/(n·(min(r, c) − 1)));
    ``cramers_v_bc`` is Bergsma's bias-corrected V
    (:func:`compendium.analysis.contingency.cramers_v_bc`).

    When the smallest expected count is below ``min_expected`` the p-value comes from the
    Fisher-Freeman-Halton test instead (``test == "fisher"``) and the χ² statistic and its
    degrees of freedom are **not** reported (``chi2`` and ``dof`` are NaN: a χ² value beside
    an exact p-value invites reading it as the test). The p-value is exact by enumeration
    where feasible, else a seeded Monte-Carlo estimate
    (:func:`compendium.analysis.contingency.fisher_rxc`); ``p_method`` says which
    (``"asymptotic"``, ``"exact"`` or ``"monte-carlo"``) and ``p_se`` is the Monte-Carlo
    standard error (0 otherwise).

    Returns ``test, chi2, dof, p, p_se, cramers_v, cramers_v_bc, n, min_expected`` (the
    smallest expected count), ``p_method`` and ``shape``. A variable with fewer than two
    observed levels raises :class:`ParameterError`.
    """
    from scipy import stats as sps

    _check_columns(df, [x, y], "x/y")
    if x == y:
        raise ParameterError("x/y", f"x and y are the same column {x!r}")
    data = df[[x, y]].dropna().copy()
    for col in (x, y):
        if isinstance(data[col].dtype, pd.CategoricalDtype):
            data[col] = data[col].cat.remove_unused_categories()
        levels = data[col].nunique()
        if levels < 2:
            raise ParameterError(
                col,
                f"has {levels} observed level(s) after dropping missing values; a "
                "contingency test needs at least two levels in each variable",
            )
    obs = pd.crosstab(data[x], data[y]).to_numpy().astype(np.int64)
    res = sps.chi2_contingency(obs, correction=False)
    min_exp = float(np.min(res.expected_freq))
    n = int(obs.sum())
    result: dict[str, Any] = {
        "test": "chi2",
        "chi2": float(res.statistic),
        "dof": int(res.dof),
        "p": float(res.pvalue),
        "cramers_v": float(np.sqrt(res.statistic / (n * (min(obs.shape) - 1)))),
        "n": int(len(data)),
        "min_expected": min_exp,
        "p_method": "asymptotic",
        "p_se": 0.0,
        "cramers_v_bc": cramers_v_bc(obs),
        "shape": tuple(int(v) for v in obs.shape),
    }
    if min_exp < min_expected:
        fisher = fisher_rxc(obs, n_resamples=n_resamples, seed=seed)
        result.update(test="fisher", chi2=float("nan"), dof=float("nan"), p=fisher["p"],
                      p_method=fisher["p_method"], p_se=fisher["p_se"])
    return result


def cronbach(items_df: pd.DataFrame, ci: float = 0.95) -> dict[str, Any]:
    """Cronbach's alpha with Feldt confidence interval.

    Method: ``docs/methods.md#cronbachs-alpha``. α = k/(k−1)·(1 − Σ var(item)/var(total)),
    from the items' covariance matrix; the Feldt interval is
    1 − (1 − α)·F⁻¹ with (n − 1, (n − 1)(k − 1)) degrees of freedom (``scipy.stats.f``),
    rounded to three decimals as ``pingouin.cronbach_alpha`` (which this replaced) does.
    Missing values are handled **listwise**: respondents with any item missing
    (e.g. "don't know" recoded to missing) are dropped first, and the interval uses the
    ``n`` returned here.

    Returns ``alpha, ci_low, ci_high, n, k`` (complete respondents, items).
    """
    from scipy import stats as sps

    ci = _check_level(ci, "ci")
    if items_df.shape[1] < 2:
        raise ParameterError(
            "items_df", f"needs at least two item columns, has {items_df.shape[1]}"
        )
    non_numeric = [c for c in items_df.columns if items_df[c].dtype.kind not in "biuf"]
    if non_numeric:
        raise ParameterError(
            "items_df",
            f"item column(s) {non_numeric} are not numeric; recode answers to numbers "
            "and non-substantive answers to missing first",
        )
    complete = items_df.dropna(axis=0, how="any").astype(float)
    if len(complete) < 2:
        raise ParameterError(
            "items_df", f"only {len(complete)} respondent(s) answered every item; need 2"
        )
    n, k = complete.shape
    cov = complete.cov()
    alpha = (k / (k - 1)) * (1 - np.trace(cov) / cov.sum().sum())
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low, high = np.round([1 - (1 - alpha) * sps.f.isf((1 - ci) / 2, df1, df2),
                          1 - (1 - alpha) * sps.f.isf(1 - (1 - ci) / 2, df1, df2)], 3)
    return {
        "alpha": float(alpha),
        "ci_low": float(low),
        "ci_high": float(high),
        "n": int(len(complete)),
        "k": int(items_df.shape[1]),
    }


def kruskal_test(df: pd.DataFrame, dv: str, between: str) -> dict[str, Any]:
    """Kruskal-Wallis test (``scipy.stats.kruskal``, tie-corrected) with ε² = H / (n − 1).

    Method: ``docs/methods.md#kruskal-wallis-test``.
    Rows with ``dv`` or ``between`` missing are dropped; ``n`` is the rows used.
    Returns ``H, dof, p, epsilon2, n``.
    """
    from scipy import stats as sps

    _check_columns(df, [dv, between], "dv/between")
    data = df[[dv, between]].dropna()
    if data[dv].dtype.kind not in "biuf":
        raise ParameterError("dv", f"column {dv!r} must be numeric (ordinal codes)")
    groups = data[between].nunique()
    if groups < 2:
        raise ParameterError(
            "between", f"column {between!r} has {groups} observed group(s); need at least 2"
        )
    samples = [g.to_numpy(dtype=float) for _, g in data.groupby(between, observed=True)[dv]]
    res = sps.kruskal(*samples)
    n = int(len(data))
    h = float(res.statistic)
    return {
        "H": h,
        "dof": len(samples) - 1,
        "p": float(res.pvalue),
        "epsilon2": h / (n - 1),
        "n": n,
    }


def mwu_test(x: Any, y: Any) -> dict[str, Any]:
    """Two-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``), missing dropped.

    Method: ``docs/methods.md#mann-whitney-test``. SciPy's default method (exact for small
    samples without ties, else the normal approximation with tie correction); SciPy is
    linear in memory, unlike pingouin 0.7's ``mwu``. Returns ``U`` (for ``x``), ``p``,
    ``rbc`` (rank-biserial correlation, 2U/(n1·n2) − 1, positive when ``x`` tends to be
    larger), ``cles`` (common-language effect size U/(n1·n2) = P(X > Y) + ½P(X = Y)),
    ``n1`` and ``n2``.
    """
    from scipy import stats as sps

    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    xa, ya = xa[~np.isnan(xa)], ya[~np.isnan(ya)]
    if len(xa) == 0 or len(ya) == 0:
        raise ParameterError("x/y", f"both samples need values; sizes {len(xa)} and {len(ya)}")
    res = sps.mannwhitneyu(xa, ya, alternative="two-sided")
    u = float(res.statistic)
    cles = u / (len(xa) * len(ya))
    return {
        "U": u,
        "p": float(res.pvalue),
        "rbc": 2 * cles - 1,
        "cles": cles,
        "n1": int(len(xa)),
        "n2": int(len(ya)),
    }


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype.kind in "OSU"
        or (pd.api.types.is_string_dtype(s.dtype))
    )


def dummy_code(
    data: pd.DataFrame, predictors: Sequence[str], reference: Mapping[str, Any] | None = None,
    *, bool_as_levels: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Design columns (no intercept) of ``predictors`` in ``data`` (complete rows).

    A categorical predictor (Categorical, string or object; boolean too with
    ``bool_as_levels``) becomes one 0/1 column ``col[T.level]`` per observed level other than
    its reference: ``reference[col]``, else the first observed level (Categorical order,
    otherwise sorted). Other predictors enter as they are. Returns the design and each
    categorical predictor's reference level.
    """
    reference = dict(reference or {})
    columns: dict[str, np.ndarray] = {}
    refs: dict[str, Any] = {}
    for col in predictors:
        s = data[col]
        if _is_categorical(s) or (bool_as_levels and s.dtype.kind == "b"):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [c for c in s.cat.categories if (s == c).any()]
            else:
                levels = sorted(s.unique().tolist())
            ref = reference.get(col, levels[0] if levels else None)
            if ref not in levels:
                raise ParameterError(
                    "reference", f"level {ref!r} of {col!r} not observed", allowed=levels
                )
            if len(levels) < 2:
                raise ParameterError(col, "has a single observed level; cannot estimate an effect")
            refs[col] = ref
            for lev in levels:
                if lev != ref:
                    columns[f"{col}[T.{lev}]"] = (s == lev).to_numpy(dtype=float)
        else:
            if col in reference:
                raise ParameterError("reference", f"predictor {col!r} is numeric, not categorical")
            values = s.to_numpy(dtype=float)
            if np.nanstd(values) == 0:
                raise ParameterError(col, "is constant after dropping missing values")
            columns[col] = values
    return pd.DataFrame(columns, index=data.index), refs


def logistic(
    df: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    reference: Mapping[str, Any] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Binary logistic regression (``statsmodels`` ``Logit``) with dummy coding.

    Method: ``docs/methods.md#logistic-regression`` (maximum likelihood, Wald intervals; for
    sparse cells use :func:`compendium.analysis.models.firth_logistic`).
    ``outcome`` must be 0/1 or boolean. Numeric and boolean predictors enter as
    they are; categorical (Categorical, string or object) predictors are
    dummy-coded against a reference level: ``reference[col]`` if given, else the
    first category (Categorical order, otherwise sorted). Dummy terms are named
    ``col[T.level]``. Rows with a missing outcome or predictor are dropped
    (listwise) before coding; levels left unused are dropped.

    Returns one row per term (``Intercept`` first) with columns
    ``term, coef, se, z, p, ci_low, ci_high, odds_ratio, or_ci_low, or_ci_high, n``;
    ``attrs["n"]`` is the number of rows used and ``attrs["reference"]`` maps each
    categorical predictor to its reference level.
    """
    level = _check_level(level)
    predictors = list(predictors)
    if not predictors:
        raise ParameterError("predictors", "give at least one predictor column")
    _check_columns(df, [outcome, *predictors], "outcome/predictors")
    reference = dict(reference or {})
    unknown_ref = sorted(set(reference) - set(predictors))
    if unknown_ref:
        raise ParameterError("reference", f"names non-predictors {unknown_ref}", allowed=predictors)
    data = df[[outcome, *predictors]].dropna()
    n = int(len(data))
    y = data[outcome]
    if y.dtype == bool:
        y = y.astype(int)
    if not set(pd.unique(y)) <= {0, 1}:
        raise ParameterError(
            "outcome", f"column {outcome!r} must be coded 0/1 or boolean", allowed=[0, 1]
        )
    if y.nunique() < 2:
        raise ParameterError("outcome", f"column {outcome!r} has only one value after dropping NA")
    X, refs = dummy_code(data, predictors, reference)
    from statsmodels.discrete.discrete_model import Logit

    X.insert(0, "Intercept", 1.0)
    fit = Logit(y.to_numpy(dtype=float), X).fit(disp=0, method="newton", maxiter=100)
    ci = np.asarray(fit.conf_int(alpha=1 - level), dtype=float)
    out = pd.DataFrame(
        {
            "term": list(X.columns),
            "coef": np.asarray(fit.params, dtype=float),
            "se": np.asarray(fit.bse, dtype=float),
            "z": np.asarray(fit.tvalues, dtype=float),
            "p": np.asarray(fit.pvalues, dtype=float),
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
        }
    )
    out["odds_ratio"] = np.exp(out["coef"])
    out["or_ci_low"] = np.exp(out["ci_low"])
    out["or_ci_high"] = np.exp(out["ci_high"])
    out["n"] = n
    out.attrs["n"] = n
    out.attrs["reference"] = refs
    return out


# --------------------------------------------------------------------------- multiplicity
def adjust_pvalues(pvals: Any, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values (``statsmodels.stats.multitest.multipletests``).

    Method: ``docs/methods.md#multiple-testing``.
    ``method`` is one of ``holm``, ``fdr_bh`` (Benjamini-Hochberg), ``bonf`` or
    ``none``. Missing p-values stay missing and do not count in the family size.
    """
    if method not in P_ADJUST_METHODS:
        raise ParameterError("method", f"unknown correction {method!r}", allowed=P_ADJUST_METHODS)
    p = np.asarray(pvals, dtype=float).ravel()
    finite = p[~np.isnan(p)]
    if np.any((finite < 0) | (finite > 1)):
        raise ParameterError("pvals", "p-values must lie in [0, 1]")
    adjusted = p.copy()
    keep = ~np.isnan(p)
    if method == "none" or not keep.any():
        return adjusted
    from statsmodels.stats.multitest import multipletests

    adjusted[keep] = multipletests(p[keep], method=_MULTIPLETESTS[method])[1]
    return adjusted


def test_family(
    results: Sequence[Mapping[str, Any]], method: str = "holm", alpha: float = 0.05
) -> pd.DataFrame:
    """Tidy table of a stated family of tests with adjusted p-values.

    Each dict (e.g. a :func:`chi2_test` result plus a ``label``) becomes a row;
    every dict needs a ``p``. Adds ``p_adj`` (corrected within this family by
    ``method``, see :func:`adjust_pvalues`) and ``significant`` (``p_adj < alpha``).
    """
    alpha = _check_level(alpha, "alpha")
    for i, r in enumerate(results):
        if "p" not in r:
            raise ParameterError("results", f"result {i} has no 'p' key", allowed=sorted(r))
    out = pd.DataFrame([dict(r) for r in results])
    if out.empty:
        return pd.DataFrame(columns=["p", "p_adj", "significant"])
    out["p_adj"] = adjust_pvalues(out["p"].to_numpy(dtype=float), method=method)
    out["significant"] = out["p_adj"] < alpha
    out.attrs["method"] = method
    out.attrs["alpha"] = alpha
    return out


# keep pytest from collecting this public function as a test when imported into a test module
test_family.__test__ = False  # type: ignore[attr-defined]
