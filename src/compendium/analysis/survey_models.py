"""The OPS survey's models and sensitivity analyses, as notebook 01 presents them.

Compositions of :mod:`compendium.analysis.models`, :mod:`compendium.analysis.reliability`
and :mod:`compendium.analysis.stats` (methods in ``docs/methods.md`` section 1):

* :func:`training_models` — wanting training modelled as asked: Firth yes-vs-no (DK left
  out), the same with DK counted as "no" (sensitivity), and a multinomial yes/no/DK logit;
* :func:`dk_by_mode` and :func:`dk_sensitivity` — "don't know" on the readiness items by
  mode, and the key readiness results under listwise deletion, DK as the midpoint and
  multiple imputation (statsmodels MICE, Rubin's rules);
* :func:`mode_power` — minimum detectable differences and mode effects adjusted for
  position and institution type;
* :func:`dimensionality` — item–rest correlations, one-factor loadings, ω, ordinal α;
* :func:`design_summary` — design effect / cluster-robust inference when a centre
  identifier is present, and post-stratification weights from a margins file.

Published counts never fall below ``min_cell``: tables carry flags (``sparse``,
``separated``), not the small counts behind them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis import disclosure, factors, models, reliability, stats
from compendium.analysis.disclosure_audit import Ledger
from compendium.analysis.survey_analysis import (
    MIN_RESIDUAL_DF,
    NO_CONTACT,
    READY_THRESHOLD,
    _likert_values,
    _name,
)
from compendium.data.codebook import Codebook
from compendium.errors import ParameterError

CENTRE = "centre_id"  # optional cluster identifier of the data contract
ADJUST_FOR = ("position", "institution")  # composition controlled in mode-adjusted models


# ----------------------------------------------------------------------------- training
def _model_gate(table: pd.DataFrame, n_params: int) -> pd.DataFrame:
    """A model table is published only with at least ``MIN_RESIDUAL_DF`` residual degrees of
    freedom (fewer could disclose individual answers; docs/methods.md#residual-df)."""
    df_resid = int(table.attrs.get("n", 0)) - n_params
    if df_resid < MIN_RESIDUAL_DF:
        raise disclosure.DisclosureError(
            f"model has {df_resid} residual degrees of freedom (< {MIN_RESIDUAL_DF}): its "
            "coefficients could disclose individual answers; not published")
    table.attrs["sdc"] = f"model: {df_resid} residual degrees of freedom (>= {MIN_RESIDUAL_DF})"
    return table


NO_CONTACT_CODE = "none"  # the contact-frequency level of respondents without contact


def _training_frame(codes: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Outcome as asked (yes / no / dk, English keys) and the three predictors as codebook
    codes in codebook order (no contact: its own first level ``"none"``), whatever the page's
    language: the reference levels, hence the fit, are the same on every page."""
    answer = codes["want_training"].map(
        lambda x: codebook.labels("want_training", "en").get(x) if pd.notna(x) else None)
    freq = factors.coded(codes, codebook, "contact_freq", extra={NO_CONTACT_CODE: None})
    no_contact = codes["contact"].map(lambda x: codebook.labels("contact", "en").get(x)) == "no"
    freq = freq.where(~no_contact.fillna(False).astype(bool), NO_CONTACT_CODE)
    return pd.DataFrame({
        "answer": answer.map({"yes": "yes", "no": "no", "don't know": "dk"}),
        "contact_freq": freq,
        "gmina_type": factors.coded(codes, codebook, "gmina_type"),
        "seniority": factors.coded(codes, codebook, "seniority"),
    })


def _labelled_terms(table: pd.DataFrame, codebook: Codebook, lang: str) -> pd.DataFrame:
    """``term`` as the reader's "variable: level" in ``lang``; ``term_code`` keeps the design
    term (``contact_freq[T.2]``), the same in every language."""
    extra = {"contact_freq": {NO_CONTACT_CODE: NO_CONTACT}}
    out = table.rename(columns={"term": "term_code"})
    out.insert(list(out.columns).index("term_code"), "term",
               [factors.term_label(t, codebook, lang, extra) for t in out["term_code"]])
    out.attrs.update(table.attrs)
    return out


def training_models(
    codes: pd.DataFrame, codebook: Codebook, lang: str, level: float, min_cell: int
) -> dict[str, pd.DataFrame]:
    """Wanting training on contact frequency, gmina type and seniority, three ways.

    ``primary``: Firth logistic regression of yes vs no, don't-know left out;
    ``dk_as_no``: the same with don't-know merged into no (the earlier model, kept as a
    sensitivity analysis); both with profile penalised-likelihood intervals and a
    ``separated`` flag (ML estimate infinite). ``multinomial``: yes and don't-know each
    against no (statsmodels ``MNLogit``, Wald intervals); a separated term shows no ratio;
    ``answer`` is the answer compared with no in ``lang`` (``answer_code``: ``yes``, ``dk``).
    Terms read "variable: level" in ``lang``; ``term_code`` keeps the design term.
    ``sparse`` marks a dummy term with fewer than ``min_cell`` events or non-events.
    """
    preds = ["contact_freq", "gmina_type", "seniority"]
    frame = _training_frame(codes, codebook)
    name = _name(codebook, "want_training", lang)
    out: dict[str, pd.DataFrame] = {}
    for key, data in (
        ("primary", frame[frame["answer"].isin(["yes", "no"])]),
        ("dk_as_no", frame[frame["answer"].notna()]),
    ):
        fit = models.firth_logistic(data.assign(y=(data["answer"] == "yes").astype(int)),
                                    "y", preds, level=level, outcome_label=name)
        sparse = (fit["n_events"] < min_cell) | (fit["n_nonevents"] < min_cell)
        table = fit[["term", "odds_ratio", "or_ci_low", "or_ci_high", "p", "p_test",
                     "separated"]].assign(
            sparse=sparse.to_numpy())
        table.attrs.update(fit.attrs)
        out[key] = _model_gate(_labelled_terms(table, codebook, lang), len(fit))
    mn = models.multinomial_logit(frame.dropna(subset=["answer"]), "answer", preds, base="no",
                                  level=level, outcome_label=name)
    shown = mn.copy()
    for col in ("rrr", "rrr_ci_low", "rrr_ci_high", "p"):
        shown[col] = shown[col].mask(shown["separated"])
    keys = {"yes": "yes", "no": "no", "don't know": "dk"}
    answers = {keys[en]: codebook.labels("want_training", lang)[code]
               for code, en in codebook.labels("want_training", "en").items() if en in keys}
    shown = shown.rename(columns={"level": "answer_code"})
    shown.insert(0, "answer", shown["answer_code"].map(answers))
    shown.attrs.update(mn.attrs)
    out["multinomial"] = _model_gate(_labelled_terms(shown, codebook, lang), len(mn))
    return out


# ----------------------------------------------------------------------------- don't know
def _dk_any(raw_codes: pd.DataFrame, codebook: Codebook, group: str) -> pd.Series:
    items = codebook.likert_items(group)
    miss = codebook.missing_codes(items[0])
    return raw_codes[items].isin(miss).any(axis=1)


def dk_by_mode(
    raw_codes: pd.DataFrame, codebook: Codebook, group: str, level: float, ledger: Ledger,
    artefact: str,
) -> pd.DataFrame:
    """Share of respondents with at least one don't-know on a battery, by mode (Wilson CI).

    ``raw_codes`` is the table as read (don't-know still coded, e.g. 9). The counts go
    through the notebook's ledger (:func:`survey_analysis.dk_counts_by_mode`).
    """
    dk = _dk_any(raw_codes, codebook, group)
    rows = []
    for mode, sub in dk.groupby(raw_codes["mode"], sort=True):
        k, n = int(sub.sum()), int(len(sub))
        lo, hi = stats.wilson_ci(k, n, level)
        rows.append({"mode": mode, "n": k, "n_base": n, "pct": 100 * k / n,
                     "ci_low": 100 * lo, "ci_high": 100 * hi})
    from compendium.analysis.survey_analysis import dk_counts_by_mode

    return dk_counts_by_mode(ledger, pd.DataFrame(rows), group, artefact)


def _mice_data(frame: pd.DataFrame, k_pmm: int, rng: np.random.Generator):
    """statsmodels ``MICEData`` whose design matrices are sliced from the data directly.

    With every conditional model left at its default (each variable on all the others,
    main effects with an intercept, OLS) the design matrix is ``[1, other columns]``, in the
    data's column order: what ``MICEData`` builds by parsing that formula with patsy on every
    update, which is 90 % of its time. The same values give the same imputations
    (tests/analysis/test_survey_models_mice.py compares with the formula path).
    """
    from statsmodels.imputation.mice import MICEData

    class _ArrayMICEData(MICEData):
        def _matrices(self, vname: str) -> tuple[np.ndarray, np.ndarray]:
            values = self.data.to_numpy(dtype=float)
            j = self.data.columns.get_loc(vname)
            exog = np.column_stack([np.ones(len(values)), np.delete(values, j, axis=1)])
            return values[:, [j]], exog

        def get_split_data(self, vname):  # noqa: D102 (statsmodels' contract)
            endog, exog = self._matrices(vname)
            ixo, ixm = self.ix_obs[vname], self.ix_miss[vname]
            # Fortran order, as patsy's frames give: the least-squares sums then run in the
            # same order, to the last bit (and predictive mean matching breaks ties alike)
            return (endog[ixo], np.asfortranarray(exog[ixo]), np.asfortranarray(exog[ixm]),
                    {}, {})

        def get_fitting_data(self, vname):  # noqa: D102
            endog, exog = self._matrices(vname)
            ix = self.ix_obs[vname]
            return endog[ix, 0].copy(), np.asfortranarray(exog[ix]), {}, {}

    return _ArrayMICEData(frame, k_pmm=k_pmm, rng=rng)


def _rubin(estimates: Sequence[float], variances: Sequence[float], level: float
           ) -> tuple[float, float, float]:
    """Rubin's rules: pooled estimate and a t interval with Barnard-Rubin-free df (Rubin 1987)."""
    from scipy import stats as sps

    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    qbar, ubar, b = q.mean(), u.mean(), q.var(ddof=1)
    t = ubar + (1 + 1 / m) * b
    r = (1 + 1 / m) * b / ubar if ubar > 0 else np.inf
    df = (m - 1) * (1 + 1 / r) ** 2 if np.isfinite(r) and r > 0 else np.inf
    half = sps.t.ppf(1 - (1 - level) / 2, df) * np.sqrt(t)
    return float(qbar), float(qbar - half), float(qbar + half)


def _key_results(values: pd.DataFrame, mode: pd.Series, level: float) -> dict[str, Any]:
    """α, mean score and its CI, % ready, CAWI − PAPI mean difference on complete rows."""
    complete = values.dropna()
    score = complete.mean(axis=1)
    alpha = stats.cronbach(complete, ci=level)
    m = mode.loc[complete.index]
    a, b = score[m == "CAWI"], score[m == "PAPI"]
    return {
        "n": int(len(complete)), "alpha": alpha["alpha"],
        "mean": float(score.mean()), "var_mean": float(score.var(ddof=1) / len(score)),
        "pct_ready": float(100 * (score >= READY_THRESHOLD).mean()),
        "var_pct": float(1e4 * (score >= READY_THRESHOLD).mean()
                         * (1 - (score >= READY_THRESHOLD).mean()) / len(score)),
        "diff": float(a.mean() - b.mean()),
        "var_diff": float(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)),
    }


def dk_sensitivity(
    raw_codes: pd.DataFrame, codebook: Codebook, group: str, level: float,
    n_imputations: int, seed: int, lang: str,
) -> pd.DataFrame:
    """Key readiness results when don't-know is missing (listwise), the midpoint, or imputed.

    Midpoint: don't-know becomes the scale's middle code. Multiple imputation: don't-know
    and blanks are imputed ``n_imputations`` times by chained equations with predictive
    mean matching (statsmodels ``MICEData``, seeded; the other battery items and the mode
    as predictors; 5 burn-in cycles, then 2 cycles between kept imputations) and the
    results pooled by Rubin's rules (α is averaged). Rows: strategy (its label in ``lang``;
    ``strategy_code``: ``listwise``, ``midpoint`` or ``mi``);
    columns ``n`` (respondents used), ``alpha``, ``mean`` with CI, ``pct_ready`` with CI,
    ``diff_cawi_papi`` with CI.
    """
    from scipy import stats as sps

    items = codebook.likert_items(group)
    var = codebook.variable(items[0])
    scale = list(var.codes)
    mid = scale[len(scale) // 2]
    listwise = _likert_values(raw_codes, codebook, group)
    dk = raw_codes[items].isin(codebook.missing_codes(items[0]))
    midpoint = listwise.mask(dk, float(mid))
    mode = raw_codes["mode"]
    z = sps.norm.ppf(1 - (1 - level) / 2)
    names = {"listwise": ("DK as missing (listwise)", "„nie wiem” jako brak (wykluczenie)"),
             "midpoint": ("DK as the midpoint", "„nie wiem” jako środek skali"),
             "mi": (f"multiple imputation (MICE, m = {n_imputations})",
                    f"imputacja wielokrotna (MICE, m = {n_imputations})")}
    rows = []
    for key, values in (("listwise", listwise), ("midpoint", midpoint)):
        r = _key_results(values, mode, level)
        rows.append({"strategy": key, "n": r["n"], "alpha": r["alpha"], "mean": r["mean"],
                     "mean_ci_low": r["mean"] - z * np.sqrt(r["var_mean"]),
                     "mean_ci_high": r["mean"] + z * np.sqrt(r["var_mean"]),
                     "pct_ready": r["pct_ready"],
                     "pct_ci_low": r["pct_ready"] - z * np.sqrt(r["var_pct"]),
                     "pct_ci_high": r["pct_ready"] + z * np.sqrt(r["var_pct"]),
                     "diff_cawi_papi": r["diff"],
                     "diff_ci_low": r["diff"] - z * np.sqrt(r["var_diff"]),
                     "diff_ci_high": r["diff"] + z * np.sqrt(r["var_diff"])})
    safe = {c: f"x{i}" for i, c in enumerate(items)}
    frame = listwise.rename(columns=safe).assign(papi=(mode == "PAPI").astype(float))
    imp = _mice_data(frame.reset_index(drop=True), k_pmm=10, rng=np.random.default_rng(seed))
    draws = []
    imp.update_all(5)  # burn-in
    for _ in range(n_imputations):
        imp.update_all(2)  # cycles between kept imputations
        data = imp.data.drop(columns="papi").rename(columns={v: k for k, v in safe.items()})
        data.index = listwise.index
        draws.append(_key_results(data.round().clip(scale[0], scale[-1]), mode, level))
    mi = {"strategy": "mi", "n": int(len(listwise)),
          "alpha": float(np.mean([d["alpha"] for d in draws]))}
    for est, var_, col in (("mean", "var_mean", "mean"), ("pct_ready", "var_pct", "pct"),
                           ("diff", "var_diff", "diff")):
        q, lo, hi = _rubin([d[est] for d in draws], [d[var_] for d in draws], level)
        label = {"mean": "mean", "pct": "pct_ready", "diff": "diff_cawi_papi"}[col]
        mi.update({label: q, f"{col}_ci_low": lo, f"{col}_ci_high": hi})
    rows.append(mi)
    out = pd.DataFrame(rows)
    out["strategy_code"] = out["strategy"]  # the same in every language (results' keys)
    out["strategy"] = out["strategy"].map(lambda k: names[k][0 if lang == "en" else 1])
    out.attrs["sdc"] = ("exempt: scale statistics under three treatments of don't-know; n is "
                        "each analysed sample, not a table cell")
    return out


# ----------------------------------------------------------------------------- mode
#: What mode_power's ``adjusted`` column says the estimate is, in each language.
ADJUSTED_WORDS = {
    "en": {"mean": "mean difference PAPI − CAWI", "firth_LRT": "OR PAPI/CAWI (Firth, LRT p)",
           "firth_Wald": "OR PAPI/CAWI (Firth, Wald p)"},
    "pl": {"mean": "różnica średnich PAPI − CAWI",
           "firth_LRT": "OR PAPI/CAWI (Firth, p z testu ilorazu wiarygodności)",
           "firth_Wald": "OR PAPI/CAWI (Firth, p z testu Walda)"},
}


def mode_power(
    codes_scored: pd.DataFrame, codebook: Codebook, outcomes: Sequence[str], alpha: float,
    power: float, level: float, lang: str, cluster: str | None = None,
) -> pd.DataFrame:
    """Per outcome: CAWI − PAPI difference, the minimum detectable difference, and the mode
    effect adjusted for position and institution type.

    Score outcomes: differences of means (adjusted: OLS, HC3 or cluster-robust SE).
    Binary outcomes: differences in percentage points (MDD at the PAPI share); adjusted:
    Firth odds ratio of PAPI vs CAWI with a profile-likelihood interval. Respondents who
    were not asked a question (routing) are not in its base. ``outcome`` is the outcome's
    label in ``lang``, ``outcome_code`` its variable name; the adjustment variables enter as
    codebook codes (reference: the first code), so no number depends on ``lang``.
    """
    words = ADJUSTED_WORDS[lang]
    rows = []
    for outcome in outcomes:
        y = _outcome_values(codes_scored, codebook, outcome)
        name = _name(codebook, outcome, lang)
        frame = pd.DataFrame({"y": y, "mode": codes_scored["mode"]})
        for col in ADJUST_FOR:  # codes in codebook order: the same reference in every language
            frame[col] = factors.coded(codes_scored, codebook, col)
        if cluster and cluster in codes_scored.columns:
            frame[cluster] = codes_scored[cluster]
        frame = frame.dropna(subset=["y", "mode", *ADJUST_FOR])
        a, b = frame.loc[frame["mode"] == "CAWI", "y"], frame.loc[frame["mode"] == "PAPI", "y"]
        binary = outcome != "readiness_score"
        if binary:
            diff = 100 * (a.mean() - b.mean())
            mdd = 100 * models.min_detectable_difference(len(a), len(b), alpha=alpha,
                                                         power=power, p0=float(b.mean()))
            fit = models.firth_logistic(
                frame.assign(mode=pd.Categorical(frame["mode"], ["CAWI", "PAPI"]),
                             y=frame["y"].astype(int)), "y", ["mode", *ADJUST_FOR], level=level,
                outcome_label=name,
            ).set_index("term").loc["mode[T.PAPI]"]
            adj = {"adjusted": words[f"firth_{fit['p_test']}"],
                   "estimate": fit["odds_ratio"], "ci_low": fit["or_ci_low"],
                   "ci_high": fit["or_ci_high"], "p": fit["p"]}
        else:
            diff = a.mean() - b.mean()
            mdd = models.min_detectable_difference(len(a), len(b), alpha=alpha, power=power,
                                                   sd=float(frame["y"].std(ddof=1)))
            res = models.adjusted_difference(
                frame.assign(mode=pd.Categorical(frame["mode"], ["CAWI", "PAPI"])), "y",
                ["mode", *ADJUST_FOR], "mode[T.PAPI]", level=level,
                cluster=cluster if cluster in frame.columns else None, outcome_label=name)
            adj = {"adjusted": words["mean"], "estimate": res["estimate"],
                   "ci_low": res["ci_low"], "ci_high": res["ci_high"], "p": res["p"]}
        rows.append({"outcome": name, "n_cawi": len(a),
                     "n_papi": len(b), "difference": diff, "mdd": mdd,
                     "detectable": abs(diff) >= mdd, **adj, "outcome_code": outcome})
    out = pd.DataFrame(rows)
    out.attrs["sdc"] = ("exempt: differences, power and adjusted model effects; n_cawi and "
                        "n_papi are the analysis bases of each outcome, not table cells")
    return out


def _outcome_values(codes: pd.DataFrame, codebook: Codebook, outcome: str) -> pd.Series:
    if outcome == "readiness_score":
        return codes["readiness_score"].astype(float)
    if outcome == "ready":
        return codes["ready"].astype("Float64").astype(float)
    if outcome == "want_training":
        yes = next(c for c, lab in codebook.labels("want_training", "en").items()
                   if lab == "yes")
        return (codes["want_training"] == yes).astype(float).where(
            codes["want_training"].notna())
    return codes[outcome].astype("Float64").astype(float)


# ----------------------------------------------------------------------------- reliability
def dimensionality(codes: pd.DataFrame, codebook: Codebook, group: str, lang: str
                   ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Item–rest correlations and one-factor loadings per item, and the scale summaries.

    Returns the per-item table and ``{"omega", "ordinal_alpha", "explained", "eigen1",
    "eigen2", "n"}`` (complete respondents; don't-know is missing).
    """
    values = _likert_values(codes, codebook, group)
    ir = reliability.item_rest(values).set_index("item")["r_rest"]
    fa = reliability.one_factor(values)
    table = pd.DataFrame({
        "item": [codebook.label(i, lang) for i in values.columns],
        "r_item_rest": ir.reindex(values.columns).to_numpy(),
        "loading": fa["loadings"].reindex(values.columns).to_numpy(),
    })
    ordinal = reliability.ordinal_alpha(values)
    summary = {"omega": fa["omega"], "ordinal_alpha": ordinal["alpha"],
               "explained": fa["explained"], "eigen1": float(fa["eigenvalues"][0]),
               "eigen2": float(fa["eigenvalues"][1]), "n": fa["n"]}
    table.attrs["sdc"] = "exempt: correlations and loadings of items, no counts"
    return table, summary


# ----------------------------------------------------------------------------- design
def design_summary(codes_scored: pd.DataFrame, level: float, cluster: str = CENTRE
                   ) -> dict[str, Any]:
    """Design effect and cluster-robust interval of the mean readiness score.

    Returns ``{"clustered": False}`` when the centre column is absent or empty. Otherwise
    ``clustered=True`` with :func:`compendium.analysis.models.design_effect`'s numbers and
    the mean score with its simple-random-sample interval (``srs_ci_low/high``) and its
    cluster-robust interval (``cr_ci_low/high``: intercept-only OLS, statsmodels
    ``cov_type="cluster"``).
    """
    import statsmodels.api as sm

    if cluster not in codes_scored.columns or codes_scored[cluster].isna().all():
        return {"clustered": False}
    data = codes_scored[["readiness_score", cluster]].dropna()
    deff = models.design_effect(data["readiness_score"], data[cluster])
    y = data["readiness_score"].to_numpy(dtype=float)
    ols = sm.OLS(y, np.ones((len(y), 1)))
    srs = ols.fit().conf_int(alpha=1 - level)[0]
    cr = ols.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(data[cluster])[0]}
                 ).conf_int(alpha=1 - level)[0]
    return {"clustered": True, **deff, "mean": float(y.mean()),
            "srs_ci_low": float(srs[0]), "srs_ci_high": float(srs[1]),
            "cr_ci_low": float(cr[0]), "cr_ci_high": float(cr[1])}


def load_margins(path: str | Path) -> dict[str, Any]:
    """Read a margins file: YAML ``{variable: <codebook variable>, shares: {code: share}}``."""
    import yaml

    from compendium.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "margins file not found")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("shares"), dict) \
            or not isinstance(doc.get("variable"), str):
        raise DataError(path, "not a margins file", expected="keys 'variable' and 'shares'")
    return doc


def weighted_readiness(
    codes_scored: pd.DataFrame, codebook: Codebook, margins: Mapping[str, Any]
) -> dict[str, Any]:
    """Post-stratified mean readiness score and % ready, with Kish's effective n.

    ``margins`` is ``{"variable": <codebook variable>, "shares": {code: share}}`` (a
    margins file). Respondents without a score are left out before weighting.
    """
    var = margins.get("variable") if isinstance(margins, Mapping) else None
    if var not in codes_scored.columns:
        raise ParameterError("margins_file", f"variable {var!r} is not a survey column")
    data = codes_scored.dropna(subset=["readiness_score", var])
    w = models.poststrat_weights(data[var].astype(int), margins.get("shares") or {})
    score = data["readiness_score"].astype(float)
    ready = (score >= READY_THRESHOLD).astype(float)
    return {"variable": var, "mean": float(np.average(score, weights=w)),
            "pct_ready": float(100 * np.average(ready, weights=w)),
            "n": int(len(data)), "n_effective": float(w.sum() ** 2 / (w**2).sum())}
