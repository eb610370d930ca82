"""Key-finding sentences and the synthesis table of the interview notebooks.

Every sentence is built from tables computed in the run (no number typed by hand); a code
whose intercoder κ is below the flag threshold is named with its κ wherever a sentence
reports it (``docs/methods.md#intercoder-agreement``), and the absence of a code is reported
against the interviews in which the topic was asked (``docs/methods.md#absence-of-evidence``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from compendium.analysis import qual
from compendium.analysis.disclosure_audit import MARKER, Ledger, key
from compendium.analysis.interview_analysis import below_threshold, theme_codes
from compendium.data.corpus import CodedCorpus
from compendium.data.labels import Labels
from compendium.errors import DataError


# ----------------------------------------------------------------------------- findings
def _fmt_list(items: Sequence[str], lang: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    conj = " and " if lang == "en" else " i "
    return ", ".join(items[:-1]) + conj + items[-1]


def _shown(v: object) -> str:
    """A protected count for prose: the number, or the suppression marker as it is (a
    suppressed count given as ``None``, as the results JSON holds it, shows the marker)."""
    if v is None:
        return MARKER
    return v if isinstance(v, str) else str(int(v))


def _num(x: float, lang: str, digits: int = 2) -> str:
    text = f"{x:.{digits}f}"
    return text.replace(".", ",") if lang == "pl" else text


def kappa_caveat(
    code_id: str, low_kappa: Mapping[str, float] | None, threshold: float, lang: str
) -> str:
    """" (intercoder κ = 0.44, below 0.6: ...)" when the code is flagged, else ""."""
    if not low_kappa or code_id not in low_kappa:
        return ""
    k = _num(low_kappa[code_id], lang)
    t = _num(threshold, lang, 1)
    if lang == "pl":
        return f" (zgodność koderów κ = {k}, poniżej {t}: wynik do ostrożnego odczytu)"
    return f" (intercoder κ = {k}, below {t}: read with caution)"


def idi_findings(
    area_freq: pd.DataFrame, policy: pd.DataFrame, n_docs: int, lang: str,
    asked: Mapping[str, int | None] | None = None,
    low_kappa: Mapping[str, float] | None = None, threshold: float = 0.6,
) -> list[str]:
    """Key-finding sentences of the IDI notebook, built from the computed tables.

    With ``asked`` (from :func:`publish_topic_asked`; ``None`` = suppressed, shown as the
    marker) the strategy sentence counts only interviews in which the topic was asked; a
    code flagged in ``low_kappa`` gets :func:`kappa_caveat`.
    """
    num = area_freq.assign(_n=pd.to_numeric(area_freq["n_segments"], errors="coerce"))
    top = num.sort_values("_n", ascending=False, kind="mergesort").iloc[0]
    zero = num.loc[num["_n"] == 0, "label"].tolist()
    pol = policy.set_index("code_id")
    strategy = _shown(pol.loc["Policy\\Integration strategy", "n_documents"])
    one_off = _shown(pol.loc["Policy\\One-off action", "n_segments"])
    cont = _shown(pol.loc["Policy\\Continuous action", "n_segments"])
    seg, docs = _shown(top["n_segments"]), _shown(top["n_documents"])
    cav = kappa_caveat(str(top["code_id"]), low_kappa, threshold, lang)
    if asked is not None:
        asked = {k: _shown(v) for k, v in asked.items()}
    if lang == "pl":
        out = [
            f"Najwięcej zakodowanych działań dotyczy obszaru: {top['label']} "
            f"({seg} działań w {docs} z {n_docs} "
            f"wywiadów){cav}.",
        ]
        if asked is not None:
            out.append(
                f"Strategię integracji gminy wskazano w {asked['with_code_asked']} z "
                f"{asked['asked']} wywiadów, w których o nią pytano; w {asked['not_asked']} "
                "nie pytano, więc brak kodu nie jest tam dowodem braku strategii."
            )
        else:
            out.append(f"Strategię integracji gminy wskazano w {strategy} z {n_docs} wywiadów.")
        out.append(f"Działań jednorazowych zakodowano {one_off}, ciągłych {cont}.")
        if zero:
            out.append(f"Obszary bez żadnego działania: {_fmt_list(zero, lang)}.")
        return out
    out = [
        f"{top['label']} carries the most coded actions ({seg} actions in "
        f"{docs} of {n_docs} interviews){cav}.",
    ]
    if asked is not None:
        out.append(
            f"A municipal integration strategy is reported in {asked['with_code_asked']} of "
            f"the {asked['asked']} interviews in which it was asked about; it was not asked in "
            f"{asked['not_asked']}, where the missing code is no evidence either way."
        )
    else:
        out.append(
            f"A municipal integration strategy is reported in {strategy} of {n_docs} interviews."
        )
    out.append(f"{one_off} coded actions are one-off and {cont} continuous.")
    if zero:
        out.append(f"No action is coded in: {_fmt_list(zero, lang)}.")
    return out


def city_findings(
    corpus: CodedCorpus, parents: Sequence[str], by_city: pd.DataFrame,
    tests: pd.DataFrame | None, agree: pd.DataFrame, summary: Mapping[str, Any], lang: str,
    threshold: float = 0.6, ledger: Ledger | None = None,
) -> list[str]:
    """Key-finding sentences of the four-city notebook, built from the computed tables.

    A "most widespread code" whose κ is flagged in ``agree`` carries :func:`kappa_caveat`.
    """
    n = len(corpus.documents)
    freq = qual.code_frequency(corpus).set_index("code_id")
    low = below_threshold(agree)
    out = []
    for parent in parents:
        ids = theme_codes(corpus, parent)
        best = max(ids, key=lambda c: (freq.loc[c, "n_documents"], c))
        k: int | str = int(freq.loc[best, "n_documents"])
        if ledger is not None:  # the same count as the code's prevalence elsewhere
            hidden = ledger.publish({key("interview", {f"has:{best}": True}): k}, "findings")
            k = MARKER if any(hidden.values()) else k
        label = by_city.loc[by_city["code_id"] == best, "label"]
        name = label.iloc[0] if len(label) else best
        cav = kappa_caveat(best, low, threshold, lang)
        out.append(
            f"{parent}: the most widespread code is {name}, in {k} of {n} interviews{cav}."
            if lang == "en" else
            f"{parent}: najczęstszy kod to {name}, w {k} z {n} wywiadów{cav}."
        )
    if tests is not None and len(tests):
        hit = tests.loc[tests["significant"].fillna(False).astype(bool)]
        sig = [
            f"{lab}{kappa_caveat(code, low, threshold, lang)}"
            for code, lab in zip(hit["code_id"], hit["label"], strict=True)
        ]
        out.append(
            (f"After Holm correction {len(sig)} of {int(tests['p'].notna().sum())} tested "
             "themes differ between cities" + (f" ({_fmt_list(sig, lang)})." if sig else "."))
            if lang == "en" else
            (f"Po korekcie Holma {len(sig)} z {int(tests['p'].notna().sum())} tematów różni "
             "się między miastami" + (f" ({_fmt_list(sig, lang)})." if sig else "."))
        )
    out.append(agreement_sentence(agree, summary, threshold, lang))
    return out


def agreement_sentence(
    agree: pd.DataFrame, summary: Mapping[str, Any], threshold: float, lang: str
) -> str:
    """Pooled κ (with the number of codes it pools and leaves out) and the flagged codes."""
    flagged = agree.loc[agree["flag"].astype(str).str.startswith("below"), "label"].tolist()
    kappa = summary.get("pooled_kappa", float("nan"))
    used, excl = summary.get("n_codes_pooled", 0), summary.get("n_codes_excluded", 0)
    t = _num(threshold, lang, 1)
    if lang == "pl":
        return (
            f"Łączna kappa Cohena na podwójnie kodowanych wywiadach wynosi {_num(kappa, lang)} "
            f"({used} kodów; pominięto {excl} nieużytych w tej próbie); "
            + (f"kody poniżej {t}: {_fmt_list(flagged, lang)}." if flagged
               else f"brak kodów poniżej {t}.")
        )
    return (
        f"Pooled Cohen's kappa on the double-coded interviews is {kappa:.2f} ({used} codes; "
        f"{excl} not used in that subset are left out); "
        + (f"codes below {t}: {_fmt_list(flagged, lang)}." if flagged
           else f"no code below {t}.")
    )


# ----------------------------------------------------------------------------- synthesis
def _results(results_dir: Path, notebook: str) -> dict[str, Any]:
    path = results_dir / f"{notebook}.json"
    if not path.exists():
        raise DataError(path, "results of an earlier notebook are missing",
                        expected=f"run `make` for {notebook} first")
    return json.loads(path.read_text(encoding="utf-8")).get("results", {})


def synthesis_table(
    results_dir: str | Path, idi_labels: Labels, city_labels: Labels, lang: str
) -> pd.DataFrame:
    """Document-level prevalence of Wielkopolska areas and four-city qualities and risks."""
    results_dir = Path(results_dir)
    idi = _results(results_dir, "02_idi_wielkopolska")
    fc = _results(results_dir, "03_four_cities")
    rows = []
    n_idi = idi["n_interviews"]
    study_idi = "Wielkopolska 2020"
    study_fc = "Four cities 2022" if lang == "en" else "Cztery miasta 2022"
    for code, n in idi["area_interviews"].items():
        rows.append({"study": study_idi, "theme": idi_labels.code(code.split("\\")[0], lang),
                     "code_id": code, "label": idi_labels.code(code, lang), "n": n,
                     "pct": None if n is None else round(100 * n / n_idi, 1)})
    for code, v in fc["theme_prevalence"].items():
        parent = code.split("\\")[0]
        if parent not in ("Qualities", "Risks"):
            continue
        rows.append({"study": study_fc, "theme": city_labels.code(parent, lang),
                     "code_id": code, "label": city_labels.code(code, lang), "n": v["n"],
                     "pct": v["pct"]})
    out = pd.DataFrame(rows)
    # counts come from the earlier notebooks' gated results: None = suppressed there
    out["n"] = [MARKER if v is None or pd.isna(v) else int(v) for v in out["n"]]
    out["pct"] = pd.to_numeric(out["pct"], errors="coerce")
    out.attrs["sdc"] = "gated upstream: counts read from the results JSON of notebooks 02-03"
    return out


def synthesis_counts(results_dir: str | Path) -> dict[str, Any]:
    """Study sizes and agreement flags the synthesis cites, from the earlier results."""
    results_dir = Path(results_dir)
    idi = _results(results_dir, "02_idi_wielkopolska")
    fc = _results(results_dir, "03_four_cities")
    return {
        "n_idi": int(idi["n_interviews"]),
        "n_four_cities": int(fc["n_interviews"]),
        "cities": list(fc.get("cities", [])),
        "low_kappa": {**idi.get("low_kappa", {}), **fc.get("low_kappa", {})},
        "kappa_threshold": float(fc.get("kappa_threshold", 0.6)),
    }


def synthesis_findings(
    side: pd.DataFrame, lang: str, low_kappa: Mapping[str, float] | None = None,
    threshold: float = 0.6,
) -> list[str]:
    """Sentences comparing the two studies, from the side-by-side table; a top code whose
    κ was flagged in its study carries :func:`kappa_caveat`."""
    out = []
    for study, part in side.groupby("study", sort=False):
        for theme, sub in part.groupby("theme", sort=False):
            top = sub.sort_values("pct", ascending=False, kind="mergesort").iloc[0]
            none = sub.loc[sub["n"].map(lambda v: v == 0 and not isinstance(v, str)),
                           "label"].tolist()
            cav = kappa_caveat(str(top["code_id"]), low_kappa, threshold, lang)
            if lang == "en":
                s = (f"{study}, {theme}: {top['label']} is the most widespread "
                     f"({top['pct']:.0f} % of interviews){cav}")
                s += f"; not coded in any interview: {_fmt_list(none, lang)}." if none else "."
            else:
                s = (f"{study}, {theme}: najczęściej {top['label']} "
                     f"({top['pct']:.0f} % wywiadów){cav}")
                s += (f"; nie zakodowano w żadnym wywiadzie: {_fmt_list(none, lang)}." if none
                      else ".")
            out.append(s)
    return out
