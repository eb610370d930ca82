"""The auditor's attack: from the published files alone, reconstruct suppressed counts.

Reads only `outputs/tables/**.csv` and `outputs/results/*.json` of notebooks 01-03, writes
down what a reader knows about how they relate (interviews: a code's interviews over all
cities add up to its total in the codebook; a cell of a group cannot exceed the group's size;
a table's cells add up to its margins; the framework matrix repeats the prevalence counts;
survey: a question's answer counts add up to its base; a multiple-response option or a
Likert item cannot exceed the respondents; the same count of respondents in two tables or in
the JSON is one number; respondents scored on the readiness battery, those with a
don't-know and those of each mode tie the don't-know tables to the sample), and for every
suppressed cell asks an integer program (scipy's HiGHS) for its smallest and largest
possible value. A cell whose smallest and largest value agree is recovered, and so is a
suppressed count shown elsewhere or given back by a percentage of a known base. None may be.

This attacker is written independently of the ledger (it knows nothing of its keys or
decisions); it runs on the shipped data and on a 10x synthetic data set.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import IGNORE, ROOT, VENV, make
from scipy.optimize import Bounds, LinearConstraint, milp

pytestmark = pytest.mark.slow


class Attack:
    """Unknowns (suppressed cells, unpublished totals), equations and inequalities."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.hidden: set[str] = set()
        self.eq: list[tuple[dict[str, float], float]] = []
        self.le: list[tuple[dict[str, float], float]] = []
        self.leaks: dict[str, str] = {}

    def cell(self, name: str, text: object) -> None:
        """A published cell: a number is known, a marker (``x``, ``n = x``, ``<k``, ``n < k``)
        is hidden."""
        s = str(text).strip()
        m = re.fullmatch(r"(?:n\s*=\s*)?(\d+)(?:\.0)?", s)
        if m:
            value = int(m.group(1))
            if name in self.known and self.known[name] != value:
                raise AssertionError(f"{name} published as {self.known[name]} and {value}")
            self.known[name] = value
        elif re.fullmatch(r"(?:n\s*)?<\s*\d+|(?:n\s*=\s*)?x", s):
            self.hidden.add(name)
        elif s in ("", "nan", "None"):
            pass
        else:
            raise AssertionError(f"{name}: unreadable cell {s!r}")

    def total(self, parts: list[str], whole: str) -> None:
        self.eq.append(({**{p: 1.0 for p in parts}, whole: -1.0}, 0.0))

    def at_most(self, part: str, whole: str) -> None:
        self.le.append(({part: 1.0, whole: -1.0}, 0.0))

    def sum_at_most(self, parts: list[str], whole: str) -> None:
        """sum(parts) <= whole."""
        coef: dict[str, float] = {}
        for x in parts:
            coef[x] = coef.get(x, 0.0) + 1.0
        coef[whole] = coef.get(whole, 0.0) - 1.0
        self.le.append((coef, 0.0))

    def leak(self, name: str, why: str) -> None:
        """A suppressed count given away outside the equations (e.g. by a percentage)."""
        self.leaks[name] = why

    def recovered(
        self, literal: tuple[int, int] | None = None
    ) -> dict[str, tuple[float, float]]:
        """Hidden cells whose smallest and largest feasible value agree.

        ``literal``: also read each marker at its word, a hidden count in lo..hi (if the
        published numbers then admit no solution, the markers are not all literal and the
        attacker learns nothing this way)."""
        names = sorted({n for row, _ in self.eq + self.le for n in row} | self.hidden
                       | set(self.known))
        idx = {n: i for i, n in enumerate(names)}
        lo = np.zeros(len(names))
        hi = np.full(len(names), np.inf)
        for n, v in self.known.items():
            if n not in self.hidden:
                lo[idx[n]] = hi[idx[n]] = v
        if literal is not None:
            for n in self.hidden:
                lo[idx[n]], hi[idx[n]] = literal
        cons = []
        for rows, upper_only in ((self.eq, False), (self.le, True)):
            if rows:
                a = np.zeros((len(rows), len(names)))
                for r, (coef, _) in enumerate(rows):
                    for n, c in coef.items():
                        a[r, idx[n]] += c
                cons.append(LinearConstraint(a, -np.inf if upper_only else 0, 0))
        out: dict[str, tuple[float, float] | str] = dict(self.leaks)
        for n in sorted(self.hidden & set(self.known)):  # hidden here, shown elsewhere
            out[n] = (self.known[n], self.known[n])
        # feasible at all? (then HiGHS's "infeasible or unbounded", status 4, is unbounded:
        # e.g. a hidden count of coded segments that nothing bounds from above)
        res = milp(np.zeros(len(names)), constraints=cons, bounds=Bounds(lo, hi),
                   integrality=np.ones(len(names)))
        if res.status == 2 and literal is not None:
            return {}
        assert res.status == 0, f"published numbers inconsistent: {res.message}"
        for target in sorted(self.hidden - set(self.known)):
            ends = []
            for sign in (1.0, -1.0):
                c = np.zeros(len(names))
                c[idx[target]] = sign
                res = milp(c, constraints=cons, bounds=Bounds(lo, hi),
                           integrality=np.ones(len(names)))
                assert res.status in (0, 3, 4), f"published numbers inconsistent: {res.message}"
                ends.append(sign * res.fun if res.status == 0 else np.inf)
            if ends[0] == ends[1]:
                out[target] = (ends[0], ends[1])
        return out


def _crosstab(att: Attack, path: Path, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """A two-way table with Total row and column; returns row and column total names."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    first = t.columns[0]
    rows = [r for r in t[first] if r not in ("Total", "Razem")]
    cols = [c for c in t.columns[1:] if c not in ("Total", "Razem")]
    total_col = t.columns[-1]
    body = t.set_index(first)
    total_row = body.index[-1]
    for r in [*rows, total_row]:
        for c in [*cols, total_col]:
            att.cell(f"{name}[{r}|{c}]", body.loc[r, c])
    for r in [*rows, total_row]:
        att.total([f"{name}[{r}|{c}]" for c in cols], f"{name}[{r}|{total_col}]")
    for c in [*cols, total_col]:
        att.total([f"{name}[{r}|{c}]" for r in rows], f"{name}[{total_row}|{c}]")
    return ({r: f"{name}[{r}|{total_col}]" for r in rows},
            {c: f"{name}[{total_row}|{c}]" for c in cols})


def _framework(att: Attack, path: Path, totals: dict[str, str], sizes: dict[str, str],
               name: str) -> dict[tuple[str, str], str]:
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    first = t.columns[0]
    cells = {}
    for _, row in t.iterrows():
        label = row[first]
        parts = []
        for group in t.columns[1:]:
            cell = f"{name}[{label}|{group}]"
            att.cell(cell, row[group].split(" | ")[0])
            parts.append(cell)
            cells[(label, group)] = cell
            if group in sizes:
                att.at_most(cell, sizes[group])
        if label in totals:
            att.total(parts, totals[label])
    return cells


def attack_idi(out: Path) -> Attack:
    att = Attack()
    tab = out / "tables" / "02_idi_wielkopolska"
    inst, _ = _crosstab(att, tab / "interviews_by_type.csv", "by_type")
    docs, segs = {}, {}
    for table in ("areas", "policy"):
        t = pd.read_csv(tab / f"{table}.csv", dtype=str, keep_default_na=False)
        for _, r in t.iterrows():
            docs[r["label"]] = f"docs[{r['code_id']}]"
            segs[r["label"]] = f"segs[{r['code_id']}]"
            att.cell(docs[r["label"]], r["n_documents"])
            att.cell(segs[r["label"]], r["n_segments"])
    res = json.loads((out / "results" / "02_idi_wielkopolska.json").read_text("utf-8"))["results"]
    for code, v in res["area_interviews"].items():
        att.cell(f"docs[{code}]", "x" if v is None else v)
    for code, v in res["area_counts"].items():
        att.cell(f"segs[{code}]", "x" if v is None else v)
    _framework(att, tab / "framework_matrix.csv", docs, inst, "fw")
    for table in ("actions_by_area_policy_counts", "areas_cooperation_funding_counts"):
        t = pd.read_csv(tab / f"{table}.csv", dtype=str, keep_default_na=False)
        first = t.columns[0]
        for _, row in t.iterrows():
            for col in t.columns[1:]:
                cell = f"{table}[{row[first]}|{col}]"
                att.cell(cell, row[col])
                for whole in (segs.get(row[first]), segs.get(col)):
                    if whole:
                        att.at_most(cell, whole)
    return att


def attack_four_cities(out: Path) -> Attack:
    att = Attack()
    tab = out / "tables" / "03_four_cities"
    cities, types = _crosstab(att, tab / "interviews_by_city_type.csv", "by_city_type")
    book = pd.read_csv(tab / "codebook.csv", dtype=str, keep_default_na=False)
    docs = {r["code_id"]: f"docs[{r['code_id']}]" for _, r in book.iterrows()}
    segs = {r["code_id"]: f"segs[{r['code_id']}]" for _, r in book.iterrows()}
    for _, r in book.iterrows():
        att.cell(docs[r["code_id"]], r["n_documents"])
        att.cell(segs[r["code_id"]], r["n_segments"])
    if (tab / "city_tests.csv").exists():
        for _, r in pd.read_csv(tab / "city_tests.csv", dtype=str,
                                keep_default_na=False).iterrows():
            att.cell(docs[r["code_id"]], r["n_documents"])
    res = json.loads((out / "results" / "03_four_cities.json").read_text("utf-8"))["results"]
    for code, v in res["theme_prevalence"].items():
        att.cell(docs[code], "x" if v["n"] is None else v["n"])
    by_label = {}
    for table, unit, groups in (("themes_by_city", docs, cities),
                                ("themes_by_respondent_type", docs, types),
                                ("themes_by_city_segments", segs, {})):
        t = pd.read_csv(tab / f"{table}.csv", dtype=str, keep_default_na=False)
        for code, part in t.groupby("code_id", sort=False):
            cells = []
            for _, r in part.iterrows():
                cell, size = f"{table}[{code}|{r['group']}]", f"{table}_size[{r['group']}]"
                att.cell(cell, r["n"])
                att.cell(size, r["group_size"])
                att.at_most(cell, size)
                if r["group_label"] in groups:
                    att.total([size], groups[r["group_label"]])
                cells.append(cell)
                if table == "themes_by_city":
                    by_label[(r["label"], r["group_label"])] = cell
            att.total(cells, unit[code])
    fw = _framework(att, tab / "framework_matrix.csv", {}, cities, "fw")
    for k, cell in fw.items():
        if k in by_label:
            att.total([cell], by_label[k])
    return att


SCORE = ("readiness score", "wskaźnik gotowości")  # the score's row in the mode table
MODES = ("CAWI", "PAPI")


def _json_count(value: object) -> object:
    return "x" if value is None else value


def attack_survey(out: Path) -> Attack:
    """Notebook 01: what a reader of its CSV and JSON files knows, as equations."""
    att = Attack()
    tab = out / "tables" / "01_ops_survey"
    res = json.loads((out / "results" / "01_ops_survey.json").read_text("utf-8"))["results"]

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(tab / f"{name}.csv", dtype=str, keep_default_na=False)

    def pct_gives_back(name: str, row: pd.Series, base: str) -> None:
        # a percentage of a known base gives a hidden count back
        if name in att.hidden and row.get("pct", "") not in ("", None) and base in att.known:
            att.leak(name, f"pct {row['pct']} of base {att.known[base]}")

    everyone = "respondents"
    att.cell(everyone, res["n_respondents"])
    mode = {m: f"mode[{m}]" for m in MODES}
    for m in MODES:
        att.cell(mode[m], _json_count(res[f"n_{m.lower()}"]))
    att.total(list(mode.values()), everyone)
    att.cell("incomplete", _json_count(res["n_incomplete_excluded"]))
    att.cell("training_n", _json_count(res["training_n"]))
    att.at_most("training_n", everyone)

    # sample: each variable's categories add up to its base (respondents who answered it)
    for var, part in read("sample").groupby("variable", sort=False):
        base = f"base[{var}]"
        cells = []
        for _, r in part.iterrows():
            cell = mode.get(r["category"], f"sample[{var}|{r['category']}]")
            att.cell(cell, r["n"])
            att.cell(base, r["n_base"])
            cells.append(cell)
            pct_gives_back(cell, r, base)
        att.total(cells, base)
        att.at_most(base, everyone)

    # multiple-response questions: each option at most the question's base
    for table in ("citizenships", "problems"):
        base = f"base[{table}]"
        for _, r in read(table).iterrows():
            cell = f"{table}[{r['option_code']}]"
            att.cell(cell, r["n"])
            att.cell(base, r["n_base"])
            att.at_most(cell, base)
            pct_gives_back(cell, r, base)
        att.at_most(base, everyone)

    # Likert counts: an item's answers add up to at most the respondents
    difficulty = read("difficulty_counts")
    first = difficulty.columns[0]
    for _, r in difficulty.iterrows():
        cells = [f"difficulty[{r[first]}|{c}]" for c in difficulty.columns[1:]]
        for cell, c in zip(cells, difficulty.columns[1:], strict=True):
            att.cell(cell, r[c])
        att.sum_at_most(cells, everyone)

    # top two answers of each readiness item, of those who answered it
    for _, r in read("readiness_wanted").iterrows():
        cell, base = f"top2[{r['item_code']}]", f"answered[{r['item_code']}]"
        att.cell(cell, r["n"])
        att.cell(base, r["n_base"])
        att.at_most(cell, base)
        att.at_most(base, everyone)
        pct_gives_back(cell, r, base)

    # don't-know: D_m respondents of mode m with a don't-know; S scored (every item, no
    # don't-know), S_m of them in mode m; M = respondents with no item left empty
    dk = {m: f"dk[{m}]" for m in MODES}
    for _, r in read("readiness_dk_by_mode").iterrows():
        att.cell(dk[r["mode"]], r["n"])
        att.cell(mode[r["mode"]], r["n_base"])
        pct_gives_back(dk[r["mode"]], r, mode[r["mode"]])
    sens = read("readiness_dk_sensitivity")
    # rows and the results' keys name a treatment by its code (the label is the page's language)
    roles = dict(zip(sens["strategy_code"], ("scored", "no_blank", everyone), strict=True))
    for _, r in sens.iterrows():
        att.cell(roles[r["strategy_code"]], r["n"])
        # a hidden n whose row still shows the share ready with its interval (half-width
        # z*sqrt(p(1-p)/n)) or a six-digit mean (mean * items * n is whole) gives n back
        shown = [c for c in ("pct_ready", "pct_ci_low", "mean") if r.get(c, "") != ""]
        if r["n"] == "x" and shown:
            att.leak(roles[r["strategy"]], f"hidden n, but its row shows {shown}")
    for strategy, values in res["readiness_dk_sensitivity"].items():
        att.cell(roles[strategy], _json_count(values["n"]))
    att.cell("scored", _json_count(res["readiness_alpha_n"]))
    scored_by_mode = {m: f"scored[{m}]" for m in MODES}
    for _, r in read("mode_power").iterrows():
        for m in MODES:
            name = (scored_by_mode[m] if r["outcome"] in SCORE
                    else f"analysed[{r['outcome']}|{m}]")
            att.cell(name, r[f"n_{m.lower()}"])
            att.at_most(name, mode[m])
            if r[f"n_{m.lower()}"] == "x" and r.get("mdd", "") != "":
                # the minimum detectable difference is a function of both bases
                att.leak(name, f"hidden base, but its row shows mdd {r['mdd']}")
    att.total(list(scored_by_mode.values()), "scored")
    for m in MODES:
        att.sum_at_most([dk[m], scored_by_mode[m]], mode[m])
    att.at_most("scored", "no_blank")
    att.at_most("no_blank", everyone)
    # everyone in M but not scored had a don't-know: M - S <= D_CAWI + D_PAPI
    att.le.append(({"no_blank": 1.0, "scored": -1.0, dk["CAWI"]: -1.0, dk["PAPI"]: -1.0},
                   0.0))
    att.sum_at_most([dk["CAWI"], dk["PAPI"], "scored"], everyone)
    return att


def _assert_nothing_recovered(out: Path, expect_hidden: bool) -> None:
    for name, attack, small in (("01", attack_survey, 4), ("02", attack_idi, 2),
                                ("03", attack_four_cities, 2)):
        att = attack(out)
        if expect_hidden:  # the shipped data have small cells; the 10x data may have none
            assert att.hidden, f"{name}: expected some suppressed cells to attack"
        # one marker for primary and secondary cells, and a secondary may be 0: at its word a
        # marker means 0..min_cell-1 (min_cell 5 for the survey, 3 for the interviews)
        for literal in (None, (0, small)):
            recovered = att.recovered(literal)
            assert not recovered, f"notebook {name}: recovered {recovered} (literal={literal})"


def test_the_attacker_finds_a_cell_that_margins_give_away():
    # hand-worked: a 2x2 table with margins and one hidden cell: 9 - 5 = 4
    att = Attack()
    for name, v in {"a": "<3", "b": 5, "c": 4, "d": 6, "r1": 9, "r2": 10,
                    "c1": 8, "c2": 11}.items():
        att.cell(name, v)
    att.total(["a", "b"], "r1")
    att.total(["c", "d"], "r2")
    att.total(["a", "c"], "c1")
    assert att.recovered() == {"a": (4.0, 4.0)}


def test_the_literal_reading_pins_two_small_cells_with_their_margin():
    # issue 15: two "<3" cells whose row adds to 2 are 1 and 1 when read at their word
    att = Attack()
    for name, v in {"x": "<3", "y": "<3", "row": 2}.items():
        att.cell(name, v)
    att.total(["x", "y"], "row")
    assert att.recovered() == {}
    assert set(att.recovered(literal=(1, 2))) == {"x", "y"}


def _survey_outputs(out: Path, position_b: str, midpoint_n: str) -> Path:
    """A hand-made set of notebook 01's files (20 respondents) for the attacker to read."""
    tab = out / "tables" / "01_ops_survey"
    tab.mkdir(parents=True)
    files = {
        "sample": "variable,category,n,pct,ci_low,ci_high,n_base\n"
                  "mode,CAWI,12,60,,,20\nmode,PAPI,8,40,,,20\n"
                  f"Position,a,15,75,,,20\nPosition,b,{position_b},,,,20\n",
        "citizenships": "option,n,pct,ci_low,ci_high,n_base,option_code\nUkraine,9,,,,10,ua\n",
        "problems": "option,n,pct,ci_low,ci_high,n_base,option_code\nlanguage,x,,,,10,lang\n",
        "difficulty_counts": "difficulty,easy,hard\ntalking,12,8\n",
        "readiness_wanted": "item,n,n_base,pct,ci_low,ci_high,item_code\nlaw,11,18,,,,law\n",
        "readiness_dk_by_mode": "mode,n,n_base,pct,ci_low,ci_high\n"
                                "CAWI,6,12,50,,\nPAPI,x,8,,,\n",
        "readiness_dk_sensitivity": "strategy,n,alpha,strategy_code\n"
                                    "DK as missing,10,0.8,listwise\n"
                                    f"DK as the midpoint,{midpoint_n},0.8,midpoint\n"
                                    "MICE,20,0.8,mi\n",
        "mode_power": "outcome,n_cawi,n_papi\nreadiness score,6,4\ntraining,12,8\n",
    }
    for name, text in files.items():
        (tab / f"{name}.csv").write_text(text, "utf-8")
    (out / "results").mkdir()
    mid = None if midpoint_n == "x" else int(midpoint_n)
    (out / "results" / "01_ops_survey.json").write_text(json.dumps({"results": {
        "n_respondents": 20, "n_cawi": 12, "n_papi": 8, "n_incomplete_excluded": 0,
        "training_n": 15, "readiness_alpha_n": 10,
        "readiness_dk_sensitivity": {"listwise": {"n": 10}, "midpoint": {"n": mid},
                                     "mi": {"n": 20}}}}), "utf-8")
    return out


def test_the_survey_attack_recovers_a_category_from_its_base(tmp_path):
    # hand-worked: Position b = 20 - 15 = 5
    att = attack_survey(_survey_outputs(tmp_path, position_b="x", midpoint_n="x"))
    assert att.recovered() == {"sample[Position|b]": (5.0, 5.0)}


def test_the_survey_attack_pins_dont_know_by_mode_when_the_midpoint_n_is_shown(tmp_path):
    # hand-worked: 20 respondents left no item empty, 10 are scored, so 10 had a don't-know;
    # 6 in CAWI, so PAPI >= 4; PAPI's 8 respondents include 4 scored, so PAPI <= 4
    att = attack_survey(_survey_outputs(tmp_path / "a", position_b="5", midpoint_n="20"))
    assert att.recovered() == {"dk[PAPI]": (4.0, 4.0)}
    att = attack_survey(_survey_outputs(tmp_path / "b", position_b="5", midpoint_n="x"))
    assert att.recovered() == {}  # with the midpoint's n hidden, PAPI is anywhere in 0..4


def test_the_attacker_recovers_no_suppressed_cell_on_the_shipped_data(built):
    _assert_nothing_recovered(built / "outputs", expect_hidden=True)


def test_the_attacker_recovers_no_suppressed_cell_on_ten_times_the_data(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=IGNORE, copy_function=shutil.copy2)
    subprocess.run([str(VENV / "bin" / "python"), "-m", "compendium.synthetic", "--out",
                    str(project / "data" / "raw"), "--scale", "10"], check=True, cwd=project,
                   capture_output=True, timeout=900)
    (project / "outputs").mkdir(exist_ok=True)
    # the English pages of the three notebooks it attacks (their Polish twins publish the same
    # numbers: tests/analysis/test_language_invariance.py)
    make(project, "-j2", "ops-survey", "idi", "four-cities")
    _assert_nothing_recovered(project / "outputs", expect_hidden=False)
