"""Synthetic coded interviews: the two corpora written as Dedoose (and REFI-QDA) exports.

Longer than 600 lines because one seeded random stream draws both corpora in a fixed
order: splitting the draws across modules would make the byte-identical output fragile.

``write`` produces, from the calibration in ``data/calibration/interviews.yaml``:

* ``idi_wielkopolska/dedoose_excerpts.xlsx`` and ``dedoose_codes.xlsx``: 22 in-depth
  interviews (2020), one excerpt per local integration action, Polish texts, and a
  ``strategy_asked`` descriptor ("asked" / "not asked": whether the interviewer asked
  about a municipal integration strategy, so that "asked, none" differs from "not asked");
* ``four_cities/dedoose_excerpts.xlsx``, ``dedoose_codes.xlsx`` and ``project.qdpx``:
  50 interviews (2022) in Berlin, Stockholm, London and New York, English texts.

Every text is an invented sentence built from templates and flagged ``[synthetic]``;
transcripts are the excerpts joined with invented filler lines, so excerpt ranges are
real offsets (end exclusive) into the transcript. Random draws are numpy-vectorised
from ``seed``; files are byte-identical for the same seed and scale (fixed workbook
properties, fixed zip entry times and order). ``scale`` multiplies interview counts.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from compendium.artifacts import atomic_write_bytes
from compendium.data.corpus import CodedCorpus, codes_frame, tidy_corpus
from compendium.data.dedoose import CODES_ALL_COLUMNS, FIXED_COLUMNS
from compendium.data.qdpx import deterministic_zip, write_qdpx
from compendium.errors import ParameterError

IDI = "idi_wielkopolska"
FOUR = "four_cities"

# --------------------------------------------------------------------------- texts (pl)

PL_ACTIONS = {
    "Culture": [
        "festyn wielokulturowy dla mieszkańców",
        "wieczór kuchni z różnych stron świata",
        "wystawę zdjęć o sąsiadach z innych krajów",
        "warsztaty rękodzieła dla rodzin cudzoziemców",
        "koncert muzyki z różnych krajów",
    ],
    "Education": [
        "zajęcia wyrównawcze dla dzieci cudzoziemców",
        "spotkanie dla rodziców uczniów z zagranicy",
        "dodatkowe lekcje dla uczniów z innych krajów",
    ],
    "Language learning": [
        "kurs języka polskiego dla dorosłych",
        "konwersacje po polsku przy herbacie",
        "lekcje polskiego dla dzieci",
    ],
    "Labour market": [
        "spotkanie z lokalnymi pracodawcami",
        "doradztwo zawodowe dla cudzoziemców",
        "warsztaty pisania CV",
    ],
    "Social assistance": [
        "zbiórkę darów dla rodzin",
        "pomoc w wypełnianiu wniosków o świadczenia",
        "paczki żywnościowe dla nowo przybyłych",
    ],
    "Information and counselling": [
        "ulotkę informacyjną w kilku językach",
        "dyżur informacyjny w urzędzie",
        "tłumaczenie informacji na stronie gminy",
    ],
    "Civic participation": [
        "spotkanie konsultacyjne z mieszkańcami z zagranicy",
        "warsztaty obywatelskie dla nowych mieszkańców",
        "akcję wolontariacką z udziałem cudzoziemców",
    ],
    "Housing": ["pomoc w znalezieniu mieszkania"],
    "Healthcare": ["spotkanie o dostępie do lekarza"],
}
PL_OPENERS = [
    "W zeszłym roku zorganizowaliśmy",
    "Przygotowaliśmy",
    "W naszej instytucji zorganizowano",
    "Razem z pracownikami przygotowaliśmy",
]
PL_EXTRA = {
    "One-off action": [
        "Było to działanie jednorazowe.",
        "Zrobiliśmy to raz, przy okazji święta gminy.",
        "Na razie nie planujemy kontynuacji.",
    ],
    "Continuous action": [
        "Powtarzamy to regularnie, co kilka tygodni.",
        "Prowadzimy to na stałe od dwóch lat.",
        "To działanie jest kontynuowane w każdym semestrze.",
    ],
    "NGO cooperation": [
        "Współpracowaliśmy z lokalnym stowarzyszeniem.",
        "Pomagała nam fundacja działająca na rzecz cudzoziemców.",
    ],
    "Other institutions": [
        "Partnerem był ośrodek pomocy społecznej.",
        "Wspierała nas szkoła z sąsiedniej gminy.",
    ],
    "Own budget": ["Koszty pokryto z budżetu gminy.", "Zapłaciliśmy z własnych środków."],
    "External funds": [
        "Pieniądze pochodziły z projektu zewnętrznego.",
        "Dostaliśmy na to grant.",
    ],
}
PL_QUESTIONS = [
    "Badacz: [synthetic] Jakie działania dla cudzoziemców prowadzi Państwa instytucja?",
    "Badacz: [synthetic] Czy może Pan/Pani podać jeszcze jeden przykład?",
    "Badacz: [synthetic] Jak to wyglądało w praktyce?",
    "Badacz: [synthetic] Co jeszcze robiliście?",
]
PL_OPEN = "Badacz: [synthetic] Dziękuję za zgodę na rozmowę. Zacznijmy od Państwa instytucji."
PL_CLOSE = "Badacz: [synthetic] Dziękuję za rozmowę."
PL_SPEAKER = "Rozmówca: "
PL_TAILS = [" Tyle pamiętam.", " Trudno powiedzieć więcej.", " To chyba wszystko w tej sprawie."]

# --------------------------------------------------------------------------- texts (en)

EN_ACTORS = {
    "Local administration": [
        "the city administration",
        "the municipal welfare office",
        "the district office",
    ],
    "NGOs": ["local NGOs", "a volunteer-run charity", "migrant associations"],
    "Local community": ["neighbours and local residents", "the local community", "parents"],
    "National government": [
        "the national government",
        "the central ministries",
        "national agencies",
    ],
}
EN_ACTOR_SENTENCES = [
    "We relied above all on {a}.",
    "Most of the help came from {a}.",
    "In practice it was {a} who did the work.",
]
EN_THEMES = {
    "Speed": ["They reacted within days.", "Help was set up almost overnight."],
    "Flexibility": [
        "They bent the usual procedures to fit each family.",
        "The rules were adapted case by case.",
    ],
    "Effectiveness": [
        "In the end people actually found housing and work.",
        "It worked: most families got what they needed.",
    ],
    "Comprehensiveness": [
        "Housing, schooling and health care were handled in one place.",
        "The support covered every part of daily life.",
    ],
    "Underfunding": [
        "There was never enough money for staff.",
        "The budget did not cover even the basic needs.",
    ],
    "Unstable funding": [
        "We lived from one short-term grant to the next.",
        "Nobody knew if the money would still be there next year.",
    ],
    "Coordination": [
        "Nobody knew which office was responsible for what.",
        "The agencies did not talk to each other.",
    ],
    "Uneven quality": [
        "The quality of help depended on the district you lived in.",
        "Some programmes were excellent, others barely existed.",
    ],
    "Anti-immigrant sentiment": [
        "The national debate turned hostile to newcomers.",
        "Politicians at the national level spoke against migrants.",
    ],
    "Cuts in social spending": [
        "National cuts in social spending landed on the city.",
        "The national welfare budget was cut again.",
    ],
}
EN_COVID = [
    "All of this happened during the COVID-19 lockdowns.",
    "The pandemic made everything harder.",
]
EN_QUESTIONS = [
    "Interviewer: [synthetic] Who responded first when people arrived?",
    "Interviewer: [synthetic] Can you tell me more about that?",
    "Interviewer: [synthetic] How did that work in practice?",
    "Interviewer: [synthetic] What were the main difficulties?",
]
EN_OPEN = "Interviewer: [synthetic] Thank you for agreeing to talk to us."
EN_CLOSE = "Interviewer: [synthetic] Thank you, that is all from my side."
EN_SPEAKER = "Respondent: "
EN_TAILS = [" That is how I remember it.", " I hope that helps.", " Anyway, that was it."]


@dataclass
class Study:
    """One synthetic corpus: codebook, documents, transcripts and excerpt rows."""

    name: str
    codebook: list[tuple[str, str]]  # (path, description), depth-first
    titles: list[str]
    attributes: dict[str, list[str]]  # descriptor -> value per document
    resource_dates: list[dt.date]
    texts: dict[str, str]
    coders: list[str]
    resource_creator: str
    zip_date: tuple[int, int, int, int, int, int]
    # excerpt rows (one per excerpt x coder), in export order
    rows: list[tuple[int, int, int, str, str, list[str], dt.date]] = field(default_factory=list)

    def corpus(self) -> CodedCorpus:
        """The tidy tables this study's exports must read back as."""
        attrs = pd.DataFrame(
            {
                "doc_id": [t for _ in self.attributes for t in self.titles],
                "attribute": [a for a, v in self.attributes.items() for _ in v],
                "value": [x for v in self.attributes.values() for x in v],
            }
        )
        codings = pd.DataFrame(
            [
                (self.titles[d], s, e, text, code, coder)
                for d, s, e, coder, text, codes, _ in self.rows
                for code in codes
            ],
            columns=["doc_id", "start", "end", "text", "code_id", "coder"],
        )
        return tidy_corpus(self.titles, attrs, self.codes(), codings, self.name)

    def codes(self) -> pd.DataFrame:
        """The tidy codes table of the codebook."""
        rows = []
        for path, desc in self.codebook:
            parent, _, title = path.rpartition("\\")
            rows.append((path, parent or None, title, desc, path.count("\\") + 1))
        return codes_frame(rows)


def write(raw_dir: Path, calibration: dict, seed: int, scale: int = 1) -> list[Path]:
    """Write the five raw interview files under ``raw_dir`` and return their paths."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ParameterError("scale", "must be a whole number >= 1", allowed=">= 1")
    raw_dir = Path(raw_dir)
    written = []
    for name, builder in ((IDI, build_idi), (FOUR, build_four_cities)):
        if name not in calibration:
            raise ParameterError("calibration", f"no section {name!r}", allowed=[IDI, FOUR])
        study = builder(calibration[name], seed, scale)
        folder = raw_dir / name
        written.append(atomic_write_bytes(folder / "dedoose_excerpts.xlsx", excerpts_xlsx(study)))
        written.append(atomic_write_bytes(folder / "dedoose_codes.xlsx", codes_xlsx(study)))
        if name == FOUR:
            written.append(
                write_qdpx(
                    study.corpus(),
                    study.texts,
                    folder / "project.qdpx",
                    users=study.coders,
                    project_name=FOUR,
                    line_ending="\r\n",
                    date_time=study.zip_date,
                )
            )
    return written


# --------------------------------------------------------------------------- corpora


def build_idi(cal: dict, seed: int, scale: int) -> Study:
    """The Wielkopolska IDI corpus: one excerpt per described local action."""
    rng = np.random.default_rng([seed, 1])
    codebook = _codebook(cal)
    n = int(cal["n_interviews"]) * scale
    width = max(2, len(str(n)))
    titles = [f"{cal['title_prefix']}_{i + 1:0{width}d}" for i in range(n)]
    attributes = {name: _quota(shares, n, rng) for name, shares in cal["descriptors"].items()}
    dates = _dates(cal["resource_dates"], n, rng)
    # topic-asked descriptors ("asked" / "not asked") from their own stream, so that adding
    # one leaves every other draw unchanged
    rng_topics = np.random.default_rng([seed, 1, 1])
    for name, share in cal.get("topics_asked", {}).items():
        shares = {"asked": float(share), "not asked": 1.0 - float(share)}
        attributes[name] = _quota(shares, n, rng_topics)

    m = cal["excerpts_per_interview"]
    counts = np.clip(rng.poisson(m["mean"], n), m["min"], m["max"])
    doc = np.repeat(np.arange(n), counts)
    s = len(doc)
    areas = list(cal["area_weights"])
    inst = np.asarray(attributes["institution_type"], dtype=object)[doc]
    area_p = {
        t: _weights(cal["area_weights"], cal.get("area_multipliers", {}).get(t, {}))
        for t in cal["descriptors"]["institution_type"]
    }
    area = _choose(rng, np.stack([area_p[t] for t in inst]).reshape(s, len(areas)))
    continuous = rng.random(s) < cal["p_continuous"]
    ngo = rng.random(s) < cal["p_ngo"]
    other = rng.random(s) < cal["p_other_institutions"]
    funding_names = list(cal["funding"])
    funding = _choose(rng, np.tile(_weights(cal["funding"], {}), (s, 1)))

    code_of = {path.rpartition("\\")[2]: path for path, _ in codebook}
    position = {path: i for i, (path, _) in enumerate(codebook)}
    seg_codes: list[list[str]] = []
    for i in range(s):
        codes = [code_of[areas[area[i]]]]
        codes.append(code_of["Continuous action" if continuous[i] else "One-off action"])
        if ngo[i]:
            codes.append(code_of["NGO cooperation"])
        if other[i]:
            codes.append(code_of["Other institutions"])
        if funding_names[funding[i]] != "none":
            codes.append(code_of[funding_names[funding[i]]])
        seg_codes.append(sorted(codes, key=position.__getitem__))

    pick = rng.integers(0, 1_000_000, size=(s, 8))
    texts_seg = []
    for i, codes in enumerate(seg_codes):
        leaves = [c.rpartition("\\")[2] for c in codes]
        actions = PL_ACTIONS[leaves[0]]
        parts = [f"[synthetic] {_pick(PL_OPENERS, pick[i, 0])} {_pick(actions, pick[i, 1])}."]
        parts += [_pick(PL_EXTRA[leaf], pick[i, 2 + k]) for k, leaf in enumerate(leaves[1:])]
        texts_seg.append(" ".join(parts))

    primary = [cal["coders"][0]] * n
    double = set(rng.choice(n, size=min(n, int(cal["n_double_coded"]) * scale), replace=False))
    return _assemble(
        cal, IDI, codebook, titles, attributes, dates, doc, texts_seg, seg_codes,
        primary, double, rng, (PL_OPEN, PL_QUESTIONS, PL_SPEAKER, PL_TAILS, PL_CLOSE),
    )  # fmt: skip


def build_four_cities(cal: dict, seed: int, scale: int) -> Study:
    """The four-city corpus: segments carrying an actor plus a quality, risk or context."""
    rng = np.random.default_rng([seed, 2])
    codebook = _codebook(cal)
    titles: list[str] = []
    cities: list[str] = []
    rtypes: list[str] = []
    for city, spec in cal["cities"].items():
        k = int(spec["n"]) * scale
        width = max(2, len(str(k)))
        titles += [f"{spec['prefix']}-{i + 1:0{width}d}" for i in range(k)]
        cities += [city] * k
        rtypes += _quota(cal["respondent_types"], k, rng)
    n = len(titles)
    attributes = {"city": cities, "respondent_type": rtypes}
    dates = _dates(cal["resource_dates"], n, rng)

    means = np.array([cal["segments_per_interview"][t] for t in rtypes], dtype=float)
    counts = np.clip(rng.poisson(means), cal["segments_min"], cal["segments_max"])
    doc = np.repeat(np.arange(n), counts)
    s = len(doc)
    seg_city = np.asarray(cities, dtype=object)[doc]
    seg_type = np.asarray(rtypes, dtype=object)[doc]

    actors = list(next(iter(cal["actor_weights"].values())))
    actor_p = {t: _weights(w, {}) for t, w in cal["actor_weights"].items()}
    actor = _choose(rng, np.stack([actor_p[t] for t in seg_type]))
    has_actor = rng.random(s) < cal["p_actor"]
    themes = list(cal["theme_weights"])
    theme_p = {
        t: _weights(cal["theme_weights"], cal.get("theme_multipliers", {}).get(t, {}))
        for t in cal["actor_weights"]
    }
    theme = _choose(rng, np.stack([theme_p[t] for t in seg_type]))
    within: dict[str, np.ndarray] = {}
    for group, weights in cal["code_weights"].items():
        per_city = {
            c: _weights(weights, cal.get("city_multipliers", {}).get(c, {})) for c in cal["cities"]
        }
        within[group] = _choose(rng, np.stack([per_city[c] for c in seg_city]))
    covid = rng.random(s) < cal["p_covid"]
    empty = ~has_actor & (np.asarray(themes, dtype=object)[theme] == "none") & ~covid
    has_actor |= empty

    position = {path: i for i, (path, _) in enumerate(codebook)}
    covid_path = next(p for p, _ in codebook if p.startswith("COVID"))
    pick = rng.integers(0, 1_000_000, size=(s, 5))
    seg_codes: list[list[str]] = []
    texts_seg: list[str] = []
    for i in range(s):
        codes, parts = [], []
        if has_actor[i]:
            a = actors[actor[i]]
            codes.append(f"Actors\\{a}")
            phrase = _pick(EN_ACTORS[a], pick[i, 0])
            parts.append(_pick(EN_ACTOR_SENTENCES, pick[i, 1]).format(a=phrase))
        group = themes[theme[i]]
        if group != "none":
            leaf = list(cal["code_weights"][group])[within[group][i]]
            codes.append(f"{group}\\{leaf}")
            parts.append(_pick(EN_THEMES[leaf], pick[i, 2]))
        if covid[i]:
            codes.append(covid_path)
            parts.append(_pick(EN_COVID, pick[i, 3]))
        seg_codes.append(sorted(codes, key=position.__getitem__))
        texts_seg.append("[synthetic] " + " ".join(parts))

    coders = list(cal["coders"])
    primary = [coders[j % len(coders)] for j in rng.permutation(n)]
    n_double = min(n, int(cal["n_double_coded"]) * scale)
    city_names = list(cal["cities"])
    per_city = _largest_remainder(
        np.array([cities.count(c) for c in city_names], dtype=float) / n, n_double
    )
    double: set[int] = set()
    for c, k in zip(city_names, per_city, strict=True):
        idx = np.flatnonzero(np.asarray(cities, dtype=object) == c)
        double |= set(rng.choice(idx, size=k, replace=False).tolist())
    return _assemble(
        cal, FOUR, codebook, titles, attributes, dates, doc, texts_seg, seg_codes,
        primary, double, rng, (EN_OPEN, EN_QUESTIONS, EN_SPEAKER, EN_TAILS, EN_CLOSE),
    )  # fmt: skip


def _assemble(
    cal: dict,
    name: str,
    codebook: list[tuple[str, str]],
    titles: list[str],
    attributes: dict[str, list[str]],
    dates: list[dt.date],
    doc: np.ndarray,
    texts_seg: list[str],
    seg_codes: list[list[str]],
    primary: list[str],
    double: set[int],
    rng: np.random.Generator,
    lines: tuple,
) -> Study:
    """Transcripts with real offsets, second-coder codes and the excerpt rows."""
    opening, questions, speaker, tails, closing = lines
    s = len(doc)
    q_pick = rng.integers(0, len(questions), s)
    tail = rng.random(s) < 0.3
    t_pick = rng.integers(0, len(tails), s)
    starts = np.zeros(s, dtype=np.int64)
    ends = np.zeros(s, dtype=np.int64)
    texts: dict[str, str] = {}
    bounds = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=len(titles)))])
    for d, title in enumerate(titles):
        parts = [opening]
        pos = len(opening) + 1
        for i in range(bounds[d], bounds[d + 1]):
            q = questions[q_pick[i]]
            parts.append(q)
            pos += len(q) + 1
            line = speaker + texts_seg[i] + (tails[t_pick[i]] if tail[i] else "")
            starts[i] = pos + len(speaker)
            ends[i] = starts[i] + len(texts_seg[i])
            parts.append(line)
            pos += len(line) + 1
        parts.append(closing)
        texts[title] = "\n".join(parts) + "\n"

    second = _second_coder(cal, codebook, doc, seg_codes, double, rng)
    coders = list(cal["coders"])
    lo, hi = cal["coding_lag_days"]
    lag1 = rng.integers(lo, hi + 1, s)
    lag2 = lag1 + rng.integers(1, 15, s)
    # drawn last so that every earlier draw is unchanged: where the second coder cuts the
    # excerpt differently (ends it early, or takes in the interviewee's closing remark)
    ends2 = _second_ends(cal, starts, ends, tail, [len(tails[k]) for k in t_pick], rng)
    rows = []
    for d in range(len(titles)):
        first = primary[d]
        order = [first] + ([c for c in coders if c != first][:1] if d in double else [])
        for coder in order:
            for i in range(bounds[d], bounds[d + 1]):
                codes = seg_codes[i] if coder == first else second[i]
                lag = lag1[i] if coder == first else lag2[i]
                when = dates[d] + dt.timedelta(days=int(lag))
                end = int(ends[i]) if coder == first else int(ends2[i])
                text = texts[titles[d]][int(starts[i]) : end]
                rows.append((d, int(starts[i]), end, coder, text, codes, when))
    y, mo, da = cal["zip_date"]
    return Study(
        name=name,
        codebook=codebook,
        titles=titles,
        attributes=attributes,
        resource_dates=dates,
        texts=texts,
        coders=coders,
        resource_creator=cal["resource_creator"],
        zip_date=(int(y), int(mo), int(da), 0, 0, 0),
        rows=rows,
    )


def _second_ends(
    cal: dict,
    starts: np.ndarray,
    ends: np.ndarray,
    tail: np.ndarray,
    tail_len: list[int],
    rng: np.random.Generator,
) -> np.ndarray:
    """End offsets of the second coder's excerpts: with probability ``boundary`` (calibration
    ``second_coder.boundary``, default 0) the range differs: it takes in the closing remark
    when the answer has one, otherwise it stops 5-20 characters early (never before start)."""
    p = float(cal.get("second_coder", {}).get("boundary", 0.0))
    moved = rng.random(len(ends)) < p
    cut = rng.integers(5, 21, len(ends))
    longer = ends + np.asarray(tail_len, dtype=np.int64)
    shorter = np.maximum(starts + 1, ends - cut)
    return np.where(moved, np.where(tail, longer, shorter), ends)


def _second_coder(
    cal: dict,
    codebook: list[tuple[str, str]],
    doc: np.ndarray,
    seg_codes: list[list[str]],
    double: set[int],
    rng: np.random.Generator,
) -> dict[int, list[str]]:
    """The second coder's codes on the double-coded segments: controlled misses and adds."""
    segs = np.flatnonzero(np.isin(doc, sorted(double)))
    sets = {int(i): set(seg_codes[i]) for i in segs}
    rules = cal.get("second_coder", {})
    for path, _ in codebook:
        rule = rules.get(path, rules.get("default", {"miss": 0.0, "add": 0.0}))
        pos = np.array([i for i in segs if path in seg_codes[i]], dtype=int)
        neg = np.array([i for i in segs if path not in seg_codes[i]], dtype=int)
        n_miss = min(len(pos), int(np.floor(rule["miss"] * len(pos) + 0.5)))
        n_add = min(len(neg), int(np.floor(rule["add"] * len(pos) + 0.5)))
        for i in rng.choice(pos, size=n_miss, replace=False) if n_miss else []:
            sets[int(i)].discard(path)
        for i in rng.choice(neg, size=n_add, replace=False) if n_add else []:
            sets[int(i)].add(path)
    position = {path: k for k, (path, _) in enumerate(codebook)}
    out = {}
    for i, codes in sets.items():
        out[i] = sorted(codes or {seg_codes[i][0]}, key=position.__getitem__)
    return out


# --------------------------------------------------------------------------- files


def excerpts_xlsx(study: Study) -> bytes:
    """The Dedoose excerpt export of ``study`` (bytes of a deterministic .xlsx)."""
    paths = [p for p, _ in study.codebook]
    col = {p: len(FIXED_COLUMNS) + 3 * k for k, p in enumerate(paths)}
    header = list(FIXED_COLUMNS)
    for p in paths:
        header += [f"Code: {p} Applied", f"Code: {p} Range", f"Code: {p} Weight"]
    header += list(study.attributes)
    blank = [False, None, None] * len(paths)
    res_dates = [_mdy(d) for d in study.resource_dates]
    descriptors = [[v[d] for v in study.attributes.values()] for d in range(len(study.titles))]

    def rows():
        for d, start, end, coder, text, codes, when in study.rows:
            rng_txt = f"{start}-{end}"
            leaves = ", ".join(c.rpartition("\\")[2] for c in codes)
            row = [
                study.titles[d], rng_txt, coder, _mdy(when), text,
                study.resource_creator, res_dates[d], leaves,
            ]  # fmt: skip
            row += blank
            for c in codes:
                row[col[c]] = True
                row[col[c] + 1] = rng_txt
            yield row + descriptors[d]

    return _xlsx("Excerpts", header, rows(), study.zip_date)


def codes_xlsx(study: Study) -> bytes:
    """The Dedoose codes export of ``study`` (depth-first, deterministic GUID ids)."""
    space = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:compendium:dedoose:{study.name}")
    ids = {p: str(uuid.uuid5(space, p)) for p, _ in study.codebook}
    rows = []
    for path, desc in study.codebook:
        parent = path.rpartition("\\")[0]
        title = path.rpartition("\\")[2]
        rows.append([ids[path], ids[parent] if parent else None, title, desc, False, 0, 10, 0])
    return _xlsx("Codes", list(CODES_ALL_COLUMNS), rows, study.zip_date)


def _xlsx(sheet: str, header: list[str], rows, date_time: tuple) -> bytes:
    stamp = dt.datetime(*date_time)
    wb = Workbook(write_only=True)
    wb.properties.creator = "Dedoose"
    wb.properties.created = stamp
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    entries = []
    with zipfile.ZipFile(buf) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + iso + rb"\g<2>",
                    data,
                )
            entries.append((info.filename, data))
    return deterministic_zip(entries, date_time)


# --------------------------------------------------------------------------- helpers


def _codebook(cal: dict) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in cal["codebook"]:
        path = str(entry["path"])
        parent = path.rpartition("\\")[0]
        if parent and parent not in seen:
            raise ParameterError("calibration", f"code {path!r} listed before its parent")
        seen.add(path)
        out.append((path, str(entry.get("description", ""))))
    return out


def _weights(weights: dict, multipliers: dict) -> np.ndarray:
    w = np.array([float(v) * float(multipliers.get(k, 1.0)) for k, v in weights.items()])
    return w / w.sum()


def _choose(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of ``probs`` (rows sum to 1), vectorised."""
    u = rng.random(len(probs))
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    return (u[:, None] >= cum).sum(axis=1)


def _largest_remainder(shares: np.ndarray, n: int) -> list[int]:
    raw = shares / shares.sum() * n
    base = np.floor(raw).astype(int)
    order = np.argsort(-(raw - base), kind="stable")
    base[order[: n - base.sum()]] += 1
    return base.tolist()


def _quota(shares: dict, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` values with counts proportional to ``shares`` (largest remainder), shuffled."""
    counts = _largest_remainder(np.array(list(shares.values()), dtype=float), n)
    values = [v for v, k in zip(shares, counts, strict=True) for _ in range(k)]
    return [values[i] for i in rng.permutation(n)]


def _dates(span: list, n: int, rng: np.random.Generator) -> list[dt.date]:
    lo, hi = (pd.Timestamp(x).date() for x in span)
    days = rng.integers(0, (hi - lo).days + 1, n)
    return [lo + dt.timedelta(days=int(k)) for k in days]


def _pick(options: list[str], k: int) -> str:
    return options[int(k) % len(options)]


def _mdy(d: dt.date) -> str:
    return f"{d.month}/{d.day}/{d.year}"
