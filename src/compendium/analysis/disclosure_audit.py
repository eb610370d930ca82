"""Linked-table disclosure control: one ledger of every count a notebook publishes.

A published count is named by a *key*: the unit counted (``"interview"``, ``"segment"``,
``"respondent"``) and the conditions that select the units, e.g. interviews in Berlin that
carry the code *Speed*: ``key("interview", city="Berlin", **{"has:Qualities\\Speed": True})``.
The same key in two tables (or in a table and the results JSON) is the same number, so it is
suppressed in both or in neither.

Equations follow from the keys: for every condition ``d = v`` of a key, the parent without
that condition is the sum over all values of ``d`` (declared with :meth:`Ledger.domain`;
``has:<code>`` conditions take ``True``/``False``). Keys never published are unknowns
(non-negative integers), so group sizes bound their cells, code totals tie cities together,
and a table's margins tie its cells, across every table the notebook publishes.

Protection (the protection-interval idea of τ-ARGUS and sdcTable):

* *primary*: a count in ``1 .. min_cell - 1`` is suppressed (zeros are published); every
  suppressed count shows the same neutral :data:`MARKER`, which claims no bound;
* *audit*: for each suppressed count the attacker's integer feasible range is computed
  (:func:`scipy.optimize.linprog` bounds, ends checked with :func:`scipy.optimize.milp`) given
  every published count, every equation and the bounds: one marker is shown for primary and
  secondary cells, so the attacker cannot tell them apart and every suppressed count and
  every unknown lies in ``0 .. ∞``;
* *safe* when a primary's range covers ``1 .. min_cell - 1`` (every small value stays
  possible) and any other suppressed cell is not determined (``lo < hi``);
* *secondary*: while some suppressed count is unsafe, the smallest non-zero count of the
  artefact being published that shares an equation with it is suppressed too (a zero only if
  nothing else is left; if none shares one, the nearest such counts through the equations),
  and the audit is repeated; a secondary cell the published numbers
  determine exactly is shown instead (showing it tells the reader nothing new).

*Explicit sums* (:meth:`Ledger.equation`) add what the names cannot say: e.g. a survey item's
respondents who answered it are the sum of its scale points (not of "no answer"), its "top
two" count the sum of two of them.

*Class disclosure* (:func:`class_disclosed`): another rule may ask for counts to be suppressed
(``preset``), e.g. the cells of a group whose members all gave one answer; such a cell must
not be determined by the published numbers either, and is never shown again for being
determined.

Artefacts are published in notebook order; earlier decisions are final, so a later artefact
only ever adds suppression in itself. When every count of the artefact linked to an unsafe
cell is suppressed, the cell's range is what the earlier artefacts imply and leaving the
artefact out would not widen it: an open range is accepted as the cell's floor and noted in
the audit (``bounded by earlier artefacts``); a range that pins the value raises
:class:`DisclosureError` (a build error).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import lil_matrix

from compendium.errors import CompendiumError

Key = tuple[str, tuple[tuple[str, Hashable], ...]]
#: what a suppressed count shows: one neutral mark for primary and secondary cells alike. A
#: "<3" would claim a bound that a secondary cell (which may hold any value) breaks, and an
#: auditor who reads it at its word can pin cells the ledger's ranges leave open.
MARKER = "x"

__all__ = ["MARKER", "DisclosureError", "Key", "Ledger", "class_disclosed", "key",
           "key_text"]


class DisclosureError(CompendiumError):
    """A published artefact would disclose a small count, or skipped the gate."""


def key(unit: str, conditions: Mapping[str, Hashable] | None = None, **more: Hashable) -> Key:
    """The name of a published count: ``unit`` and its selecting conditions (order-free)."""
    items = {**(conditions or {}), **more}
    return (unit, tuple(sorted(((str(d), v) for d, v in items.items()), key=repr)))


def key_text(k: Key) -> str:
    """Readable form of a key for the audit file: ``interview[city=Berlin, has:X=True]``."""
    unit, dims = k
    return f"{unit}[{', '.join(f'{d}={v}' for d, v in dims)}]"


@dataclass
class Decision:
    """What the ledger decided about one published count."""

    value: int
    suppressed: bool
    primary: bool
    artefacts: list[str] = field(default_factory=list)
    range: tuple[float, float] | None = None
    forced: bool = False  # suppressed by another rule (class disclosure), kept suppressed
    #: the range counts published before its artefact already imply (no suppression in a later
    #: artefact can widen it); the cell is safe while its range is no narrower than this
    floor: tuple[float, float] | None = None


class Ledger:
    """Every count a notebook publishes, the equations between them and what is suppressed."""

    def __init__(self, min_cell: int, interval: str = "prior",
                 show_determined: bool = True) -> None:
        """``interval``: ``"prior"`` — a primary is safe when its range covers
        ``1 .. min_cell - 1``; ``"open"`` — when it is not determined (``lo < hi``).
        ``show_determined``: show a secondary cell the published numbers determine."""
        self.show_determined = show_determined
        if interval not in ("prior", "open"):
            raise ValueError(f"interval must be 'prior' or 'open', got {interval!r}")
        self.interval = interval
        self.min_cell = int(min_cell)
        self.domains: dict[tuple[str, str], tuple[Hashable, ...]] = {}
        self.decisions: dict[Key, Decision] = {}
        self.notes: list[dict[str, Any]] = []
        self.sums: list[tuple[Key, tuple[Key, ...]]] = []

    # ------------------------------------------------------------------ declarations
    def domain(self, unit: str, dim: str, values: Iterable[Hashable]) -> None:
        """Declare that condition ``dim`` partitions ``unit`` into ``values`` (all of them)."""
        self.domains[(unit, dim)] = tuple(dict.fromkeys(values))

    def equation(self, total: Key, parts: Iterable[Key]) -> None:
        """Declare that ``total`` is the sum of ``parts`` (beyond what the keys' conditions
        say); unpublished keys in it are unknowns like any other."""
        eq = (total, tuple(dict.fromkeys(parts)))
        if eq not in self.sums:
            self.sums.append(eq)

    def note(self, artefact: str, rule: str, detail: str) -> None:
        """Record another check's outcome (class disclosure, residual df, redaction...)."""
        self.notes.append({"artefact": artefact, "rule": rule, "detail": detail})

    def _values_of(self, unit: str, dim: str) -> tuple[Hashable, ...]:
        if (unit, dim) in self.domains:
            return self.domains[(unit, dim)]
        if dim.startswith("has:"):
            return (True, False)
        raise DisclosureError(f"condition {dim!r} of unit {unit!r} has no declared values")

    # ------------------------------------------------------------------ publishing
    def publish(
        self, counts: Mapping[Key, int], artefact: str, preset: Iterable[Key] = ()
    ) -> dict[Key, bool]:
        """Decide which of ``counts`` ``artefact`` may show; ``key -> suppressed``.

        ``preset``: new keys to suppress as secondaries from the start (another rule chose
        them); the audit then adds whatever they leave unsafe."""
        fresh: dict[Key, int] = {}
        for k, v in counts.items():
            v = int(v)
            if v < 0:
                raise DisclosureError(f"{artefact}: negative count {v} for {key_text(k)}")
            if k in self.decisions:
                old = self.decisions[k]
                if old.value != v:
                    raise DisclosureError(
                        f"{artefact}: {key_text(k)} is {v} here but {old.value} in "
                        f"{old.artefacts}; one population must give one count")
                if artefact not in old.artefacts:
                    old.artefacts.append(artefact)
            else:
                fresh[k] = v
        for k, v in fresh.items():
            small = 0 < v < self.min_cell
            self.decisions[k] = Decision(v, small, small, [artefact])
        for k in preset:
            if k in fresh:
                self.decisions[k].suppressed = True
                self.decisions[k].forced = True
        self._secondary(set(fresh), artefact)
        return {k: self.decisions[k].suppressed for k in counts}

    def _secondary(self, fresh: set[Key], artefact: str) -> None:
        guesses: list[Key] = []
        while True:
            system = _System(self)
            touched = system.component_of(fresh)
            unsafe = []
            for k in touched:
                d = self.decisions.get(k)
                if d is not None and d.suppressed and (d.primary or d.forced):
                    d.range = system.range(k)
                    if not self._safe(k):
                        unsafe.append(k)
            if not unsafe:
                break
            added = False
            for k in unsafe:
                cand = [c for c in system.neighbours(k) if c in fresh
                        and not self.decisions[c].suppressed]
                guess = False
                if not cand:  # the nearest such counts that widen its range
                    near = system.nearest(k, lambda c: c in fresh
                                          and not self.decisions[c].suppressed)
                    cand = self._widening(k, near)
                    if not cand:  # none helps alone: take the smallest, check it later
                        cand, guess = near, True
                if cand:
                    best = min(cand, key=self._order)
                    self.decisions[best].suppressed = True
                    if guess:
                        guesses.append(best)
                    added = True
            if not added:
                self._earlier_bounds(unsafe, artefact)
                break
        self._drop_unneeded(guesses, fresh)
        # a secondary cell the published numbers determine is shown: it tells nothing new,
        # and showing it leaves every other range as it was
        if not self.show_determined:
            return
        system = _System(self)
        for k in system.component_of(fresh):
            d = self.decisions.get(k)
            if d is not None and d.suppressed and not d.primary:
                d.range = system.range(k)
                if d.forced:
                    continue
                if d.range[0] == d.range[1]:
                    d.suppressed, d.range = False, None

    def _earlier_bounds(self, unsafe: list[Key], artefact: str) -> None:
        """Every count of ``artefact`` linked to these cells is suppressed, so their ranges
        are what the counts published before it imply: leaving the artefact out would not
        widen them. An open range is accepted as the cell's floor and noted in the audit; a
        range that pins the value stops the build (an earlier artefact discloses it)."""
        pinned = [k for k in unsafe if self.decisions[k].range is None
                  or self.decisions[k].range[0] == self.decisions[k].range[1]]
        if pinned:
            bad = ", ".join(f"{key_text(k)} = {self.decisions[k].range}" for k in pinned)
            raise DisclosureError(
                f"{artefact}: {bad} is determined by counts published before this artefact; "
                "publish it earlier, merge categories or leave the earlier count out")
        for k in unsafe:
            d = self.decisions[k]
            d.floor = d.range
            self.note(artefact, "bounded by earlier artefacts",
                      f"{key_text(k)}: anywhere in [{_num(d.range[0])}, {_num(d.range[1])}] "
                      "from counts published before this artefact alone (every count of it "
                      "linked to this one is suppressed; leaving it out would not widen that)")

    def _drop_unneeded(self, guesses: list[Key], fresh: set[Key]) -> None:
        """Show again, latest first, each secondary taken while no single candidate helped,
        if no protected count needs it in the final pattern."""
        for c in reversed(guesses):
            self.decisions[c].suppressed = False
            system = _System(self)
            guarded = [k for k in system.component_of(fresh)
                       if (d := self.decisions.get(k)) is not None and d.suppressed
                       and (d.primary or d.forced)]
            ranges = {k: system.range(k) for k in guarded}
            saved = {k: self.decisions[k].range for k in guarded}
            for k, r in ranges.items():
                self.decisions[k].range = r
            if not all(self._safe(k) for k in guarded):
                self.decisions[c].suppressed = True
                for k, r in saved.items():
                    self.decisions[k].range = r

    def _order(self, c: Key) -> tuple[bool, int, str]:
        """Secondary candidates: non-zero first, then the smallest count."""
        return (self.decisions[c].value == 0, self.decisions[c].value, repr(c))

    def _widening(self, k: Key, candidates: Iterable[Key]) -> list[Key]:
        """The first candidate (in :meth:`_order`) whose suppression widens ``k``'s range."""
        before = self.decisions[k].range
        for c in sorted(candidates, key=self._order):
            self.decisions[c].suppressed = True
            after = _System(self).range(k)
            self.decisions[c].suppressed = False
            if before is None or after[0] < before[0] or after[1] > before[1]:
                return [c]
        return []

    def _safe(self, k: Key) -> bool:
        d = self.decisions[k]
        lo, hi = d.range if d.range is not None else (d.value, d.value)
        if d.floor is not None and lo <= d.floor[0] and hi >= d.floor[1]:
            return True  # no narrower than earlier artefacts made it: see _earlier_bounds
        if d.primary and self.interval == "prior":
            return lo <= 1 and hi >= self.min_cell - 1 and lo < hi
        return lo < hi  # a secondary only must not be determined

    # ------------------------------------------------------------------ reading
    def is_suppressed(self, k: Key) -> bool:
        """True if ``k`` was published suppressed (unknown keys raise)."""
        if k not in self.decisions:
            raise DisclosureError(f"{key_text(k)} was never passed through the gate")
        return self.decisions[k].suppressed

    def audit(self) -> dict[str, Any]:
        """The audit record: each suppressed count, its feasible range and why it is safe."""
        cells = []
        for k, d in sorted(self.decisions.items(), key=lambda kv: key_text(kv[0])):
            if not d.suppressed:
                continue
            lo, hi = d.range if d.range is not None else (None, None)
            why = (f"a primary count (1..{self.min_cell - 1}); the published numbers and bounds "
                   f"leave it anywhere in [{_num(lo)}, {_num(hi)}]" if d.primary else
                   f"secondary suppression; not determined: anywhere in [{_num(lo)}, {_num(hi)}]")
            if d.floor is not None:
                why = (f"a primary count (1..{self.min_cell - 1}) whose range "
                       f"[{_num(lo)}, {_num(hi)}] counts published before "
                       f"{d.artefacts[0]} already imply; every count of that artefact linked "
                       "to it is suppressed, so leaving it out would not widen the range")
            elif d.forced and not d.primary:
                why = ("class disclosure (every member of a group gave one answer); not "
                       f"determined: anywhere in [{_num(lo)}, {_num(hi)}]")
            kind = "primary" if d.primary else "class" if d.forced else "secondary"
            cells.append({"count": key_text(k), "artefacts": list(d.artefacts),
                          "kind": kind,
                          "feasible_range": [_num(lo), _num(hi)], "safe": self._safe(k),
                          "why": why})
        return {"min_cell": self.min_cell,
                "n_published_counts": sum(not d.suppressed for d in self.decisions.values()),
                "n_suppressed": len(cells), "suppressed": cells, "checks": list(self.notes),
                "class_disclosure": self.class_disclosure()}

    def class_disclosure(self) -> list[str]:
        """Published groups in which every member shares one value of another condition
        (e.g. every Berlin interview carries a code): flagged for the authors' judgement."""
        out = []
        for k, d in self.decisions.items():
            unit, dims = k
            if d.suppressed or d.value == 0 or len(dims) < 2:
                continue
            for i, (dim, value) in enumerate(dims):
                parent = (unit, dims[:i] + dims[i + 1:])
                p = self.decisions.get(parent)
                if p is not None and not p.suppressed and p.value == d.value:
                    out.append(f"all {p.value} of {key_text(parent)} have {dim}={value}")
        return sorted(out)


def class_disclosed(counts: Iterable[int], group_size: int | None = None) -> bool:
    """True if a group's members all gave one answer: some count equals the group size
    (``group_size``, default the sum of ``counts``, i.e. the answers are exhaustive) and the
    group is not empty. For a yes/no split pass only the "yes" count and the group size:
    none (0) and all (size) are both one answer for everybody."""
    counts = [int(c) for c in counts]
    size = sum(counts) if group_size is None else int(group_size)
    if size <= 0:
        return False
    if group_size is not None and len(counts) == 1:
        return counts[0] in (0, size)
    return size in counts


def _num(x: float | None) -> float | int | str | None:
    if x is None:
        return None
    if not np.isfinite(x):
        return "inf"
    return int(round(x))


class _System:
    """The ledger's equations over all keys (published, suppressed and unknown)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.eqs: list[tuple[Key, tuple[Key, ...]]] = []
        seen: set[tuple[Key, tuple[Key, ...]]] = set()
        self.index: dict[Key, int] = {}
        work = list(ledger.decisions)
        for total, parts in ledger.sums:
            work += [x for x in (total, *parts) if x not in ledger.decisions]
        work = list(dict.fromkeys(work))
        for k in work:
            self._var(k)
        for eq in ledger.sums:
            seen.add(eq)
            self.eqs.append(eq)
        while work:
            unit, dims = work.pop()
            for i, (d, _) in enumerate(dims):
                rest = dims[:i] + dims[i + 1:]
                parent = (unit, rest)
                kids = tuple((unit, tuple(sorted((*rest, (d, w)), key=repr)))
                             for w in ledger._values_of(unit, d))
                eq = (parent, kids)
                if eq in seen:
                    continue
                seen.add(eq)
                self.eqs.append(eq)
                for x in (parent, *kids):
                    if x not in self.index:
                        self._var(x)
                        work.append(x)
        self.links: dict[Key, set[Key]] = {k: set() for k in self.index}
        for parent, kids in self.eqs:
            members = {parent, *kids}
            for x in members:
                self.links[x] |= members

    def _var(self, k: Key) -> None:
        self.index[k] = len(self.index)

    def neighbours(self, k: Key) -> set[Key]:
        return self.links.get(k, set()) - {k}

    def nearest(self, start: Key, wanted: Any) -> list[Key]:
        """The keys satisfying ``wanted`` that the fewest equations separate from ``start``."""
        seen, ring = {start}, [start]
        while ring:
            nxt = []
            for k in ring:
                for x in sorted(self.links.get(k, ()), key=repr):
                    if x not in seen:
                        seen.add(x)
                        nxt.append(x)
            hits = [x for x in nxt if wanted(x)]
            if hits:
                return hits
            ring = nxt
        return []

    def component_of(self, keys: Iterable[Key]) -> set[Key]:
        out, work = set(), list(keys)
        while work:
            k = work.pop()
            if k in out:
                continue
            out.add(k)
            work.extend(self.links.get(k, ()))
        return out

    def _problem(self, target: Key) -> tuple[dict[Key, int], Any, np.ndarray, np.ndarray]:
        """The linear system of ``target``'s connected component (cached per component)."""
        if not hasattr(self, "_cache"):
            self._cache: dict[Key, tuple] = {}
        if target in self._cache:
            return self._cache[target]
        comp = sorted(self.component_of({target}), key=lambda k: self.index[k])
        pos = {k: i for i, k in enumerate(comp)}
        eqs = [e for e in self.eqs if e[0] in pos]
        a = lil_matrix((max(len(eqs), 1), len(comp)))
        for r, (parent, kids) in enumerate(eqs):
            a[r, pos[parent]] = 1.0
            for kid in kids:
                a[r, pos[kid]] -= 1.0
        lo = np.zeros(len(comp))
        hi = np.full(len(comp), np.inf)
        for k, i in pos.items():
            d = self.ledger.decisions.get(k)
            if d is None:
                continue
            if not d.suppressed:
                lo[i] = hi[i] = d.value
        problem = (pos, a.tocsr(), lo, hi)
        for k in comp:
            self._cache[k] = problem
        return problem

    def _feasible(self, target: Key, low: float, high: float) -> bool:
        """Is there an integer solution with ``low <= target <= high``?"""
        pos, a, lo, hi = self._problem(target)
        i = pos[target]
        lo2, hi2 = lo.copy(), hi.copy()
        lo2[i], hi2[i] = max(lo[i], low), min(hi[i], high)
        if lo2[i] > hi2[i]:
            return False
        res = milp(np.zeros(len(pos)), constraints=[LinearConstraint(a, 0, 0)],
                   bounds=Bounds(lo2, hi2), integrality=np.ones(len(pos)))
        return res.status == 0

    def range(self, target: Key) -> tuple[float, float]:
        """The attacker's integer range of ``target``: the LP bounds (HiGHS), moved inwards
        until each end is integer-feasible (``milp``), so both ends are attainable."""
        pos, a, lo, hi = self._problem(target)
        i = pos[target]
        out = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(pos))
            c[i] = sign
            res = linprog(c, A_eq=a, b_eq=np.zeros(a.shape[0]), bounds=np.column_stack([lo, hi]),
                          method="highs")
            if res.status == 3:
                out.append(-sign * np.inf)
            elif res.status != 0:
                raise DisclosureError(f"audit of {key_text(target)} failed: {res.message}")
            else:
                out.append(sign * res.fun)
        low = float(np.ceil(out[0] - 1e-7))
        high = float(np.floor(out[1] + 1e-7)) if np.isfinite(out[1]) else np.inf
        while low <= high and not self._feasible(target, low, low):
            low += 1
        while np.isfinite(high) and high >= low and not self._feasible(target, high, high):
            high -= 1
        return (low, high)
