"""compendium.analysis.disclosure_audit and redaction: oracles are brute-force enumeration of
every integer completion, hand-worked tables and hand-written excerpts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from compendium.analysis.disclosure_audit import (
    DisclosureError,
    Ledger,
    class_disclosed,
    key,
)
from compendium.analysis.protect import check_total, protect_frame, protect_matrix
from compendium.analysis.redaction import load_names, redact, screen_quotes


def table_ledger(values: np.ndarray, min_cell: int) -> tuple[Ledger, dict, dict]:
    """Publish an r x c table of interviews with all margins; return ledger, keys, decisions."""
    r, c = values.shape
    led = Ledger(min_cell)
    led.domain("interview", "row", range(r))
    led.domain("interview", "col", range(c))
    counts = {key("interview", row=i, col=j): int(values[i, j]) for i in range(r) for j in range(c)}
    counts |= {key("interview", row=i): int(values[i].sum()) for i in range(r)}
    counts |= {key("interview", col=j): int(values[:, j].sum()) for j in range(c)}
    counts[key("interview")] = int(values.sum())
    return led, counts, led.publish(counts, "t")


def completions(values: np.ndarray, hidden: dict, primary: set, min_cell: int) -> list[dict]:
    """Every integer table consistent with what is shown: brute force, independent of the LP.

    A shown cell or margin is fixed; a hidden cell (primary or not: one marker) lies in
    0..grand total. The hidden cells are enumerated in row-major order as
    ``itertools.product`` would, dropping a partial table as soon as a shown margin is
    exceeded or, all its hidden cells filled, missed (counts are non-negative, so no such
    table completes): the same list as the plain product, without its (n+1)^k tables."""
    r, c = values.shape
    n = int(values.sum())
    cells = [(i, j) for i in range(r) for j in range(c)]
    hid = [x for x in cells if hidden[key("interview", row=x[0], col=x[1])]]
    lines = [([(i, j) for j in range(c)], int(values[i].sum())) for i in range(r)
             if not hidden[key("interview", row=i)]]
    lines += [([(i, j) for i in range(r)], int(values[:, j].sum())) for j in range(c)
              if not hidden[key("interview", col=j)]]
    t = values.copy()
    out: list[dict] = []

    def fits(k: int) -> bool:  # hid[:k] assigned in t
        later = set(hid[k:])
        for line, total in lines:
            partial = sum(int(t[x]) for x in line if x not in later)
            if partial > total or (partial != total and not later.intersection(line)):
                return False
        return True

    def extend(k: int) -> None:
        if k == len(hid):
            out.append({x: int(t[x]) for x in hid})
            return
        for v in range(n + 1):
            t[hid[k]] = v
            if fits(k + 1):
                extend(k + 1)

    if fits(0):
        extend(0)
    return out


def test_bounds_pin_a_cell_that_the_equations_leave_free():
    # Row 0 is (1, 1 | 2): two primaries in 1..2 summing to 2 -> both are 1, although the
    # linear equations alone leave a free direction. The ledger must add protection.
    values = np.array([[1, 1], [5, 6]])
    led, counts, hidden = table_ledger(values, 3)
    primary = {(0, 0), (0, 1)}
    sols = completions(values, hidden, primary, 3)
    for cell in primary:
        assert {1, 2} <= {s[cell] for s in sols}, cell
    for d in led.decisions.values():
        if d.suppressed:
            assert d.range[0] < d.range[1]


@pytest.mark.parametrize("seed", range(6))
def test_every_suppressed_cell_keeps_two_integer_values_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    values = rng.choice([0, 1, 2, 3, 4, 6], size=(2, 3), p=[.15, .25, .2, .15, .15, .1])
    led, counts, hidden = table_ledger(values, 3)
    primary = {(i, j) for i in range(2) for j in range(3) if 0 < values[i, j] < 3}
    sols = completions(values, hidden, primary, 3)
    assert sols, "the true table must be a completion"
    for (i, j) in {c for s in sols for c in s}:
        seen = {s[(i, j)] for s in sols}
        if (i, j) in primary:
            assert {1, 2} <= seen, ((i, j), values)
        else:
            assert len(seen) >= 2, ((i, j), values)


def test_a_total_published_elsewhere_is_used_across_artefacts():
    # Issue 15: a code's total over all cities is in one table, its per-city counts in
    # another; with one small city the others give it away unless a second city is hidden.
    led = Ledger(3)
    led.domain("interview", "city", ["A", "B", "C"])
    x = {"has:x": True}
    led.publish({key("interview", x): 22}, "codebook")
    cities = {"A": 2, "B": 10, "C": 10}
    shown = led.publish({key("interview", x, city=c): v for c, v in cities.items()}, "by city")
    hidden = [c for c in cities if shown[key("interview", x, city=c)]]
    assert "A" in hidden and len(hidden) >= 2  # hand-worked: 2 alone = 22 - 10 - 10
    # independent check: enumerate the hidden cities' counts that add up to the total
    rest = 22 - sum(v for c, v in cities.items() if c not in hidden)
    sols = [combo for combo in itertools.product(range(23), repeat=len(hidden))
            if sum(combo) == rest]
    assert {1, 2} <= {s[hidden.index("A")] for s in sols}


def test_the_same_count_must_have_one_value_and_one_decision():
    led = Ledger(3)
    led.domain("interview", "city", ["A", "B"])
    led.publish({key("interview", city="A"): 5, key("interview", city="B"): 9}, "one")
    with pytest.raises(DisclosureError, match="one population must give one count"):
        led.publish({key("interview", city="A"): 4}, "two")


def test_audit_lists_every_suppressed_cell_with_its_range():
    led, counts, hidden = table_ledger(np.array([[1, 4], [2, 7]]), 3)
    audit = led.audit()
    assert audit["n_suppressed"] == sum(hidden.values())
    for cell in audit["suppressed"]:
        assert cell["safe"] is True
        lo, hi = cell["feasible_range"]
        assert hi == "inf" or lo < hi


def test_protect_matrix_shows_markers_and_marks_the_frame():
    values = pd.DataFrame([[1, 4], [5, 7]], index=["r", "s"], columns=["x", "y"])
    led = Ledger(3)
    led.domain("interview", "row", ["r", "s"])
    led.domain("interview", "col", ["x", "y"])
    keys = pd.DataFrame([[key("interview", row=r, col=c) for c in values.columns]
                         for r in values.index], index=values.index, columns=values.columns)
    out = protect_matrix(led, values, keys, "t")
    assert out.loc["r", "x"] == "x"
    assert out.attrs["sdc"] == "ledger"
    # margins never published: the small cell is safe alone (its row and column are unknown)
    assert (out == "x").to_numpy().sum() == 1


def test_check_total_catches_a_table_of_zeros():
    # the old four-cities table: cities as rows, the city order applied to the columns
    wide = pd.DataFrame({"city": ["B", "B", "L"], "type": ["m", "i", "m"]})
    tab = pd.crosstab(wide["city"], wide["type"]).reindex(columns=["B", "L"])
    with pytest.raises(DisclosureError, match="total 0 differs"):
        check_total(int(tab.fillna(0).to_numpy().sum()), 3, "interviews by city")


# --------------------------------------------------------------------------- quotes
EXCERPT = ("Pani Anna Kowalska z ul. Polna 12 dzwoni z 601 234 567, pisze na "
           "anna.k@example.pl; PESEL 85010112345, rozmawiałam z Kowalską wczoraj.")


def test_an_excerpt_with_name_email_phone_is_redacted_and_counted():
    text, hits = redact(EXCERPT, ["Anna", "Kowalsk"])
    assert text == ("Pani [name] [name] z [address] dzwoni z [phone], pisze na "
                    "[e-mail]; PESEL [PESEL], rozmawiałam z [name] wczoraj.")
    assert dict(hits) == {"name": 3, "street address": 1, "phone": 1, "e-mail": 1,
                          "PESEL-like number": 1}


def test_screen_quotes_can_stop_the_build():
    with pytest.raises(DisclosureError, match="personal data"):
        screen_quotes([EXCERPT], ["Anna"], on_hit="stop", where="framework")
    clean, hits = screen_quotes(["Nothing personal here."], ["Anna"], on_hit="stop")
    assert clean == ["Nothing personal here."] and not hits


def test_names_list_convention(tmp_path):
    assert load_names(tmp_path) == []
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "names.txt").write_text("# pseudonymisation list\nAnna\n\nNowak  # a\n",
                                                    encoding="utf-8")
    assert load_names(tmp_path) == ["Anna", "Nowak"]


def test_class_disclosure_is_flagged_in_the_audit():
    # hand-worked: all 13 Berlin interviews carry code x; 9 of 12 London ones do
    led = Ledger(3)
    led.domain("interview", "city", ["B", "L"])
    led.publish({key("interview", city="B"): 13, key("interview", city="L"): 12,
                 key("interview", {"city": "B", "has:x": True}): 13,
                 key("interview", {"city": "L", "has:x": True}): 9}, "t")
    assert led.audit()["class_disclosure"] == ["all 13 of interview[city=B] have has:x=True"]


def test_an_explicit_sum_ties_a_base_to_its_categories():
    # hand-worked: a question's base (answered) is 20 = a + b + c, "no answer" is not part of
    # it; with a = 3 hidden and b = 9, c = 8 shown, a = 20 - 17 = 3 unless a second is hidden
    led = Ledger(5)
    led.domain("respondent", "q", ["a", "b", "c", "(no answer)"])
    led.domain("respondent", "answered:q", (True, False))
    base = key("respondent", {"answered:q": True})
    led.equation(base, [key("respondent", q=v) for v in "abc"])
    led.publish({key("respondent"): 25, base: 20}, "sample base")
    shown = led.publish({key("respondent", q=v): n for v, n in zip("abc", (3, 9, 8),
                                                                    strict=True)}, "sample")
    hidden = [v for v in "abc" if shown[key("respondent", q=v)]]
    assert hidden == ["a", "c"]  # the smallest other category (8) joins the primary
    # independent: every split of 20 - 9 between a and c is possible, so a takes 1..4
    assert led.audit()["suppressed"][0]["feasible_range"] == [0, 11]
    # without the declared sum the ledger would have seen no equation and hidden a alone
    alone = Ledger(5)
    alone.domain("respondent", "q", ["a", "b", "c", "(no answer)"])
    alone.domain("respondent", "answered:q", (True, False))
    alone.publish({key("respondent"): 25, base: 20}, "sample base")
    out = alone.publish({key("respondent", q=v): n for v, n in zip("abc", (3, 9, 8),
                                                                    strict=True)}, "sample")
    assert sum(out.values()) == 1


@pytest.mark.parametrize(("counts", "size", "expected"), [
    ([0, 0, 12, 0], None, True),     # every answer in one category
    ([1, 0, 11, 0], None, False),
    ([0, 0, 0], None, False),         # an empty group discloses nothing
    ([0], 9, True), ([9], 9, True),   # a yes/no split: none or all
    ([4], 9, False),
])
def test_class_disclosed_by_hand(counts, size, expected):
    assert class_disclosed(counts, size) is expected


def test_a_class_cell_stays_hidden_and_must_not_be_determined():
    # hand-worked: PAPI 0 of 8 said don't-know (every PAPI respondent the same answer); with
    # the mode total and CAWI's count shown, the total of don't-knows would give it back, so
    # that total (published later, in the same artefact) is hidden too
    led = Ledger(3)
    led.domain("respondent", "mode", ["CAWI", "PAPI"])
    led.domain("respondent", "dk", (True, False))
    led.publish({key("respondent", mode="CAWI"): 12, key("respondent", mode="PAPI"): 8},
                "sample")
    frame = pd.DataFrame({"what": ["CAWI", "PAPI", "all"], "n": [5, 0, 5]})
    keys = [key("respondent", mode="CAWI", dk=True), key("respondent", mode="PAPI", dk=True),
            key("respondent", dk=True)]
    out = protect_frame(led, frame, {"n": keys}, "dk", preset=[keys[1]])
    assert out["n"].tolist()[1] == "x"
    assert "x" in (out["n"].tolist()[0], out["n"].tolist()[2])  # one more hidden
    cell = next(c for c in led.audit()["suppressed"] if "PAPI" in c["count"])
    assert cell["kind"] == "class" and cell["feasible_range"][0] < cell["feasible_range"][1]


def test_when_only_a_pair_helps_the_ledger_keeps_the_pair_and_not_the_smaller_bystander():
    # hand-worked (the survey's don't-know chain, min_cell 3): 20 respondents, CAWI 12, PAPI 8,
    # nobody left an item empty (20 published), 12 scored, so 8 had a don't-know: CAWI 6
    # (hidden as a secondary: 20 - 12 - 6 would give PAPI's 2), PAPI 2. A later table shows
    # the scored per mode (6, 6) and a bystander count per mode (11, 5): with the scored
    # shown, CAWI <= 12 - 6 = 6 and PAPI <= 8 - 6 = 2 with CAWI + PAPI = 8 pins PAPI = 2.
    # Hiding one scored count alone helps nothing (6 + 6 = 12 gives it back); the pair does.
    # The bystander (5, the smallest) touches PAPI only through the mode total and helps
    # nothing; tried on the way, it must be shown again.
    led = Ledger(3)
    r = "respondent"
    led.domain(r, "mode", ["C", "P"])
    for dim in ("dk", "blank", "x"):
        led.domain(r, dim, (True, False))
    led.publish({key(r): 20, key(r, mode="C"): 12, key(r, mode="P"): 8,
                 key(r, dk=False, blank=False): 12, key(r, blank=False): 20}, "results")
    dk = led.publish({key(r, mode="C", dk=True): 6, key(r, mode="P", dk=True): 2}, "dk")
    assert dk == {key(r, mode="C", dk=True): True, key(r, mode="P", dk=True): True}
    scored = {m: key(r, mode=m, dk=False, blank=False) for m in "CP"}
    bystander = {m: key(r, mode=m, x=True) for m in "CP"}
    out = led.publish({scored["C"]: 6, scored["P"]: 6, bystander["C"]: 11,
                       bystander["P"]: 5}, "power")
    assert out == {scored["C"]: True, scored["P"]: True, bystander["C"]: False,
                   bystander["P"]: False}
    papi = next(c for c in led.audit()["suppressed"] if c["count"] == "respondent[dk=True, mode=P]")
    assert papi["feasible_range"][0] <= 1 and papi["feasible_range"][1] >= 2


def _two_city_ledger(total_x: int) -> Ledger:
    """Two cities of 5 interviews each and code x's total, published before any city cell."""
    led = Ledger(5)
    led.domain("interview", "city", ["A", "B"])
    led.publish({key("interview", city="A"): 5, key("interview", city="B"): 5,
                 key("interview"): 10}, "sizes")
    led.publish({key("interview", {"has:x": True}): total_x}, "codebook")
    return led


def test_a_bound_earlier_artefacts_imply_is_accepted_and_noted():
    # hand-worked: x in 8 of 10 interviews, 5 per city, so each city has 8 - 5 = 3 to 5 of
    # them before any city cell is published; both city cells (4, 4) are below min_cell 5 and
    # hidden, and no suppression in "by city" can widen 3..5 (min_cell 10 on notebook 03)
    led = _two_city_ledger(8)
    x = {"has:x": True}
    cells = {key("interview", x, city=c): 4 for c in ("A", "B")}
    assert led.publish(cells, "by city") == {k: True for k in cells}
    # independent check: enumerate every completion consistent with what was published
    sols = [(a, b) for a in range(6) for b in range(6) if a + b == 8]
    assert {a for a, _ in sols} == {3, 4, 5}
    audit = led.audit()
    for cell in audit["suppressed"]:
        assert cell["feasible_range"] == [3, 5] and cell["safe"] is True
        assert "already imply" in cell["why"]
    assert [c["rule"] for c in audit["checks"]] == ["bounded by earlier artefacts"] * 2


def test_a_value_earlier_artefacts_pin_still_stops_the_build():
    # hand-worked: x in 9 of 10 interviews and in all 5 of city A pins B's cell at
    # 9 - 5 = 4, a primary at min_cell 5 that no suppression in "by city B" can hide
    led = _two_city_ledger(9)
    led.publish({key("interview", {"has:x": True}, city="A"): 5}, "city A")
    with pytest.raises(DisclosureError, match="determined by counts published before"):
        led.publish({key("interview", {"has:x": True}, city="B"): 4}, "by city B")
