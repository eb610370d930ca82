"""The OPS survey notebook's compositions: labelled, suppressed tables, tests and findings.

Generic statistics live in :mod:`compendium.analysis.stats`; this module applies them to the survey
the way the notebook presents it, with labels from the codebook in the run's language and
disclosure control (:mod:`compendium.analysis.disclosure`) on every published count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from compendium.analysis import contingency, disclosure, factors, stats
from compendium.data.codebook import Codebook
from compendium.errors import CompendiumError

MIN_RESIDUAL_DF = 10  # a model with fewer residual df is not published (ACRO's rule)
READY_THRESHOLD = 4.0  # readiness score at or above which a respondent counts as "ready"
NO_CONTACT = {"en": "no foreign clients", "pl": "brak klientów-cudzoziemców"}


# ----------------------------------------------------------------------------- tables
def _publish(table: pd.DataFrame, min_cell: int, base_col: str | None = None) -> pd.DataFrame:
    counts = [c for c in table.columns if c == "n" or c.startswith("n_")]
    pcts = [c for c in table.columns if c in ("pct", "ci_low", "ci_high")]
    return disclosure.suppress_counts_column(table, counts, min_cell, pct_cols=pcts, min_base=10,
                                      base_col=base_col)


def sample_table(
    df: pd.DataFrame, codebook: Codebook, variables: Sequence[str], lang: str, level: float,
    min_cell: int,
) -> pd.DataFrame:
    """Counts and % (Wilson CI) of each category of each variable, suppressed below min_cell."""
    parts = []
    for var in variables:
        tab = stats.proportion_table(df[var], level=level)
        base = tab.attrs.get("base", int(tab["n"].sum()))
        label = codebook.label(var, lang) if var != "mode" else ("tryb" if lang == "pl" else "mode")
        parts.append(tab.assign(variable=label, n_base=base))
    out = pd.concat(parts, ignore_index=True)
    out = out[["variable", "category", "n", "pct", "ci_low", "ci_high", "n_base"]]
    shown = disclosure.suppress_one_way(out, "n", "variable", min_cell,
                                 pct_cols=["pct", "ci_low", "ci_high"], base_col="n_base")
    return _publish(shown, min_cell, base_col="n_base")


def multi_table(
    df: pd.DataFrame, codebook: Codebook, group: str, lang: str, level: float, min_cell: int
) -> pd.DataFrame:
    """A multiple-response question as % of respondents answering it, ranked, with Wilson CI.

    The base is the respondents with at least one non-missing answer in the group (those
    routed past the question are excluded). An exclusive option ("no problems") is listed
    last. Column ``option_code`` keeps the variable name for later steps.
    """
    items = codebook.items(group)
    labels = {i: codebook.label(i, lang) for i in items}
    tab = stats.multi_response_table(df[items], level=level, labels=labels)
    base = tab.attrs.get("base")
    code_of = {v: k for k, v in labels.items()}
    tab = tab.assign(option_code=tab["option"].map(code_of))
    exclusive = tab["option_code"].map(lambda c: codebook.variable(c).exclusive)
    tab = pd.concat([tab[~exclusive], tab[exclusive]], ignore_index=True)
    if base is None:
        base = int(df[items].notna().any(axis=1).sum())
    tab = tab.assign(n_base=base)
    return _publish(tab[["option", "n", "pct", "ci_low", "ci_high", "n_base", "option_code"]],
                    min_cell, base_col="n_base")


def plottable(table: pd.DataFrame) -> pd.DataFrame:
    """Numeric copy of a published table (suppressed cells as NaN) for plotting."""
    out = table.copy()
    for col in ("n", "pct", "ci_low", "ci_high"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def likert_counts(df: pd.DataFrame, codebook: Codebook, group: str, lang: str) -> pd.DataFrame:
    """Answers per item (rows, item labels) and category (columns, scale order).

    A "don't know" column is kept only when it holds answers (i.e. when the run keeps
    don't-know as a category).
    """
    items = codebook.likert_items(group)
    rows = {}
    for item in items:
        rows[codebook.label(item, lang)] = df[item].value_counts(sort=False)
    counts = pd.DataFrame(rows).T.fillna(0).astype(int)
    cats = list(df[items[0]].cat.categories)
    counts = counts.reindex(columns=cats, fill_value=0)
    missing_labels = [codebook.labels(items[0], lang)[c] for c in codebook.missing_codes(items[0])]
    drop = [c for c in missing_labels if c in counts.columns and counts[c].sum() == 0]
    counts = counts.drop(columns=drop)
    counts.index.name = codebook.variable(items[0]).group or group
    return counts


def likert_table(counts: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """A Likert count table with primary and secondary suppression, item labels as a column."""
    out = disclosure.suppress(counts, min_cell=min_cell).reset_index()
    out.attrs["sdc"] = "rules"
    return out


def likert_plot_counts(counts: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The counts a Likert figure may draw: the protected table's, a suppressed cell as 0.

    Drawing a suppressed cell at its true size would print what the table hides; drawn as
    0 it is absent from the bar, and the item's base ``(n = …)`` counts published cells only.
    """
    shown = disclosure.suppress(counts, min_cell=min_cell)
    out = shown.apply(lambda s: pd.to_numeric(s, errors="coerce")).fillna(0).astype(int)
    out.index.name = counts.index.name
    out.attrs["sdc"] = "rules"
    return out


def neutral_label(codebook: Codebook, group: str, lang: str) -> str | None:
    """Label of the middle answer of a group's odd-length scale (None for an even scale)."""
    item = codebook.likert_items(group)[0]
    var = codebook.variable(item)
    scale = list(var.codes)
    if len(scale) % 2 == 0:
        return None
    return var.codes[scale[len(scale) // 2]][lang]


def _likert_values(codes: pd.DataFrame, codebook: Codebook, group: str) -> pd.DataFrame:
    """Likert items of a group as floats 1..k; don't-know (missing codes) always NaN here."""
    items = codebook.likert_items(group)
    out = pd.DataFrame(index=codes.index)
    for item in items:
        miss = codebook.missing_codes(item)
        out[item] = codes[item].astype("Float64").mask(codes[item].isin(miss)).astype(float)
    return out


def reliability(codes: pd.DataFrame, codebook: Codebook, group: str, level: float) -> dict:
    """Cronbach's alpha (Feldt CI) of a Likert battery; don't-know never enters the scale."""
    return stats.cronbach(_likert_values(codes, codebook, group), ci=level)


def add_readiness(codes: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Add ``readiness_score`` (mean of the ready_* items, complete answers only) and ``ready``."""
    values = _likert_values(codes, codebook, "ready")
    score = values.mean(axis=1).where(values.notna().all(axis=1))
    ready = (score >= READY_THRESHOLD).astype("boolean").mask(score.isna())
    return codes.assign(readiness_score=score, ready=ready)


def top_box(
    df: pd.DataFrame, codebook: Codebook, group: str, lang: str, level: float, min_cell: int
) -> pd.DataFrame:
    """Per item: respondents in the top two answers of the scale, % of those answering, ranked."""
    rows = []
    for item in codebook.likert_items(group):
        var = codebook.variable(item)
        top = [var.codes[c][lang] for c in list(var.codes)[-2:]]
        answered = df[item].notna() & ~df[item].isin(
            [var.missing[c][lang] for c in var.missing])
        k = int(df.loc[answered, item].isin(top).sum())
        n = int(answered.sum())
        lo, hi = stats.wilson_ci(k, n, level)
        rows.append({"item": codebook.label(item, lang), "n": k, "n_base": n,
                     "pct": 100 * k / n if n else np.nan, "ci_low": 100 * lo,
                     "ci_high": 100 * hi, "item_code": item})
    out = pd.DataFrame(rows).sort_values("pct", ascending=False, kind="mergesort")
    return _publish(out.reset_index(drop=True), min_cell, base_col="n_base")


# ----------------------------------------------------------------------------- tests
def _group_labels(codes: pd.DataFrame, codebook: Codebook, var: str, lang: str) -> pd.Series:
    if var == "mode":
        return codes["mode"]
    labels = codebook.labels(var, lang)
    return codes[var].map(lambda x: labels.get(x) if pd.notna(x) else None)


def _name(codebook: Codebook, var: str, lang: str) -> str:
    if var == "readiness_score":
        return "readiness score" if lang == "en" else "wskaźnik gotowości"
    if var == "ready":
        return "ready (score ≥ 4)" if lang == "en" else "gotowi (wskaźnik ≥ 4)"
    if var == "mode":
        return "mode" if lang == "en" else "tryb"
    return codebook.label(var, lang)


def _compare(frame: pd.DataFrame, outcome: str, group: str, *, seed: int,
             n_boot: int, level: float) -> dict[str, Any]:
    """χ² or Fisher with Bergsma's V (bootstrap CI) for a categorical outcome; Kruskal–Wallis
    or Mann–Whitney for the score. A Fisher row shows no χ² statistic (``statistic`` NaN)."""
    data = frame[[outcome, group]].dropna()
    if data[group].nunique() < 2 or data[outcome].nunique() < 2:
        raise CompendiumError("no variation")
    if outcome == "readiness_score":
        groups = [g[outcome].to_numpy(float) for _, g in data.groupby(group, sort=True)]
        if len(groups) == 2:
            r = stats.mwu_test(groups[0], groups[1])
            return {"test": "Mann-Whitney U", "statistic": r["U"], "dof": np.nan, "p": r["p"],
                    "p_method": "asymptotic", "p_se": 0.0, "effect": "rank-biserial r",
                    "effect_size": r["rbc"], "effect_ci_low": np.nan,
                    "effect_ci_high": np.nan, "n": r["n1"] + r["n2"]}
        r = stats.kruskal_test(data.assign(**{group: data[group].astype(str)}), outcome, group)
        return {"test": "Kruskal-Wallis H", "statistic": r["H"], "dof": r["dof"], "p": r["p"],
                "p_method": "asymptotic", "p_se": 0.0, "effect": "epsilon squared",
                "effect_size": r["epsilon2"], "effect_ci_low": np.nan, "effect_ci_high": np.nan,
                "n": r["n"]}
    data = data.assign(**{outcome: data[outcome].astype(str), group: data[group].astype(str)})
    r = stats.chi2_test(data, outcome, group, seed=seed)
    v = contingency.cramers_v_bootstrap(data[outcome], data[group], level=level,
                                        n_boot=n_boot, seed=seed)
    test = "chi-squared" if r["test"] == "chi2" else "Fisher-Freeman-Halton"
    return {"test": test, "statistic": r["chi2"], "dof": r["dof"], "p": r["p"],
            "p_method": r["p_method"], "p_se": r["p_se"],
            "effect": "Cramer's V (bias-corrected)", "effect_size": v["v"],
            "effect_ci_low": v["ci_low"], "effect_ci_high": v["ci_high"], "n": r["n"]}


def planned_family(
    codes: pd.DataFrame, codebook: Codebook, outcomes: Sequence[str], groups: Sequence[str],
    alpha: float, method: str, lang: str, *, seed: int, n_boot: int, level: float,
) -> pd.DataFrame:
    """One declared family of tests (analysis plan): every outcome by every group, corrected
    together by ``method``. Only the named tests run; a pair without variation (e.g. a
    problem asked only of those with contact, by contact) is left out and listed in
    ``attrs["skipped"]``."""
    rows, skipped = [], []
    for g in groups:
        # groups as codebook codes in codebook order (labels only name the row): the tests'
        # numbers, e.g. the sign of a rank-biserial r, are the same in every language
        frame = codes.assign(**{f"__{g}": factors.coded(codes, codebook, g)})
        for outcome in outcomes:
            try:
                res = _compare(frame, outcome, f"__{g}", seed=seed, n_boot=n_boot, level=level)
            except CompendiumError:
                skipped.append((outcome, g))
                continue
            rows.append({"outcome": _name(codebook, outcome, lang),
                         "group": _name(codebook, g, lang), **res})
    out = stats.test_family(rows, method=method, alpha=alpha).reset_index(drop=True)
    out.attrs["skipped"] = skipped
    out.attrs["sdc"] = ("exempt: test statistics; n is the number of respondents in each test "
                        "(all who answered both questions), not a table cell")
    return out


# ----------------------------------------------------------------------------- findings
def key_findings(
    df: pd.DataFrame, problems: pd.DataFrame, wanted: pd.DataFrame, rel: Mapping[str, Any],
    tests: pd.DataFrame, modes: pd.DataFrame, power: pd.DataFrame, alpha: float, lang: str,
) -> list[str]:
    """Three to five sentences built from the computed tables.

    The mode sentence says what the data can show: how many mode tests are significant and
    the smallest score difference the PAPI group size can detect (``power``: the table of
    :func:`compendium.analysis.survey_models.mode_power`, readiness score first).
    """
    n = len(df)
    cawi = int((df["mode"] == "CAWI").sum())
    probs = plottable(problems)
    top = probs.iloc[0]
    want = plottable(wanted).iloc[0]
    sig = tests[tests["significant"]]
    msig = modes[modes["significant"]]
    score_name = "readiness score" if lang == "en" else "wskaźnik gotowości"
    score_rows = power[power["outcome"] == score_name]
    score = score_rows.iloc[0] if len(score_rows) else None
    if lang == "pl":
        return [
            f"Ankietę wypełniło {n} osób ({cawi} przez internet, {n - cawi} na papierze).",
            f"Najczęstszy problem w kontaktach z cudzoziemcami to: {top['option']} "
            f"({top['pct']:.0f} % osób mających kontakt; 95 % CI {top['ci_low']:.0f}–"
            f"{top['ci_high']:.0f} %).",
            f"Najbardziej pożądana kompetencja: {want['item']} ({want['pct']:.0f} % gotowych).",
            f"Skala gotowości ma alfę Cronbacha {rel['alpha']:.2f} "
            f"(95 % CI {rel['ci_low']:.2f}–{rel['ci_high']:.2f}).",
            f"Po korekcie {len(sig)} z {len(tests)} zaplanowanych porównań grup jest istotnych "
            f"na poziomie {alpha}; tryby różnią się istotnie w {len(msig)} z {len(modes)} "
            f"wskaźników" + ("." if score is None else
                            f", ale przy {int(score['n_papi'])} ankietach PAPI wykrywalna jest "
                            f"dopiero różnica wskaźnika gotowości rzędu {score['mdd']:.2f} "
                            "punktu, więc mniejszych różnic trybu dane nie wykluczają."),
        ]
    return [
        f"{n} workers answered ({cawi} online, {n - cawi} on paper).",
        f"The most common problem with foreign clients is {top['option'].lower()} "
        f"({top['pct']:.0f} % of those with contact; 95 % CI {top['ci_low']:.0f}–"
        f"{top['ci_high']:.0f} %).",
        f"The competence most wanted is {want['item'].lower()} ({want['pct']:.0f} % ready).",
        f"The readiness scale has Cronbach's alpha {rel['alpha']:.2f} "
        f"(95 % CI {rel['ci_low']:.2f}–{rel['ci_high']:.2f}).",
        f"After correction {len(sig)} of {len(tests)} planned group comparisons are "
        f"significant at {alpha}; the modes differ significantly on {len(msig)} of "
        f"{len(modes)} indicators" + ("." if score is None else
                                      f", but with {int(score['n_papi'])} paper respondents "
                                      "only a readiness-score difference of about "
                                      f"{score['mdd']:.2f} points could be detected, so smaller "
                                      "mode effects are not ruled out."),
    ]
