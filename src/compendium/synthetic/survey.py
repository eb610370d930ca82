"""Synthetic OPS survey: the raw CAWI and PAPI exports, byte for byte as the real ones arrive.

:func:`simulate` draws the respondents (one vectorised pass of ``numpy.random.default_rng``)
and returns the tidy table that reading the files must give back; :func:`write` renders
the same sample as

* ``ops_survey/cawi_limesurvey.csv``: LimeSurvey ``CsvWriter``: UTF-8 with BOM, ``;``,
  every value (header too) in double quotes, CRLF, a blank line at the end, answer codes,
  multiple response ``Y``/empty, the "other" box as text, leading ``id``, ``submitdate``,
  ``lastpage``, ``startlanguage``, ``seed`` (ids have gaps: unfinished responses are not
  exported);
* ``ops_survey/papi_excel.csv``: Excel "CSV (separated by semicolons)" on Polish Windows:
  cp1250, ``;``, decimal comma, CRLF, Polish headers, ``Nr ankiety``, multiple response
  1/0, empty for missing, quotes only where a value needs them (the ``Uwagi`` remarks).

Respondents without contact with foreign clients skip the routed questions (empty fields).
Structure built in (see ``data/calibration/survey.yaml``): contact is likelier in urban
gminas and more frequent there; a latent "exposure" (contact frequency) raises the number
of problems met, the difficulty ratings and the readiness to train; the readiness items
share one factor (Cronbach's alpha about 0.8); a few "don't know" answers, more of them on
the difficulty items among workers without contact, and more of them online on the readiness
items. Respondents work in centres (``centre_id``, in both files) that share part of their
readiness (an intraclass correlation set in the calibration). Same seed and scale give the
same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compendium.artifacts import atomic_write_bytes
from compendium.data.codebook import Codebook, load_codebook
from compendium.errors import ParameterError

CAWI_FILE = "cawi_limesurvey.csv"
PAPI_FILE = "papi_excel.csv"
_CAWI_ADMIN = ["id", "submitdate", "lastpage", "startlanguage", "seed"]
_PAPI_NOTES = "Uwagi"
_PAPI_BLANK_TYPES = ("likert",)
_PAPI_BLANK_VARS = ("seniority", "centre_size", "want_training")


@dataclass
class _Sample:
    tidy: pd.DataFrame          # the tidy table, rows in file order (CAWI then PAPI)
    number: np.ndarray          # LimeSurvey id / questionnaire number per row
    n_cawi: int
    submitdate: np.ndarray      # CAWI rows
    ls_seed: np.ndarray         # CAWI rows
    other_text: np.ndarray      # every row; "" where not ticked
    notes: np.ndarray           # every row; "" where none


def write(
    raw_dir: str | Path,
    codebook_path: str | Path,
    calibration: dict[str, Any],
    seed: int,
    scale: int = 1,
) -> list[Path]:
    """Write the two raw survey exports under ``raw_dir/ops_survey/``; return their paths."""
    codebook = load_codebook(codebook_path)
    sample = _sample(codebook, calibration, seed, scale)
    cawi = _render_cawi(codebook, calibration, sample)
    papi = _render_papi(codebook, sample)
    out = Path(raw_dir) / "ops_survey"
    return [atomic_write_bytes(out / CAWI_FILE, cawi), atomic_write_bytes(out / PAPI_FILE, papi)]


def simulate(
    codebook: Codebook, calibration: dict[str, Any], seed: int, scale: int = 1
) -> pd.DataFrame:
    """The tidy table (sorted by respondent_id) that reading the written files gives."""
    tidy = _sample(codebook, calibration, seed, scale).tidy
    return tidy.sort_values("respondent_id", kind="stable").reset_index(drop=True)


# --- drawing the sample ------------------------------------------------------------------
def _sample(codebook: Codebook, cal: dict[str, Any], seed: int, scale: int) -> _Sample:
    _check_calibration(cal, codebook)
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ParameterError("scale", "must be a whole number >= 1", allowed=">= 1")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError("seed", "must be an integer")
    rng = np.random.default_rng(seed)
    n_cawi, n_papi = cal["n"]["cawi"] * scale, cal["n"]["papi"] * scale
    n = n_cawi + n_papi
    is_papi = np.arange(n) >= n_cawi
    ch = cal["characteristics"]
    v: dict[str, Any] = {}

    # respondent characteristics
    v["subregion"] = _draw(rng, ch["subregion"], n)
    poznan = v["subregion"] == 6
    gmina = _draw(rng, ch["gmina_type_outside_poznan"], n)
    v["gmina_type"] = np.where(poznan, 1, gmina)
    inst = _draw_by(rng, ch["institution_by_gmina_type"], v["gmina_type"])
    v["institution"] = np.where(poznan, _draw(rng, ch["institution_in_poznan"], n), inst)
    v["centre_size"] = _draw_by(rng, ch["centre_size_by_institution"], v["institution"])
    v["position"] = _draw(rng, ch["position"], n)
    v["seniority"] = _draw(rng, ch["seniority"], n)

    # contact and its frequency
    ct = cal["contact"]
    rate = np.vectorize(lambda g: ct["rate_by_gmina_type"][g], otypes=[float])(v["gmina_type"])
    rate = np.where(poznan, ct["rate_in_poznan"], rate)
    contact = rng.random(n) < rate
    v["contact"] = contact.astype(int)
    urban = (v["gmina_type"] == 1).astype(float)
    freq_latent = rng.standard_normal(n) + ct["frequency_urban_shift"] * urban
    freq = np.full(n, -1)
    freq[contact] = _cut(freq_latent[contact], ct["frequency"])
    v["contact_freq"] = freq
    score = np.where(contact, freq, 0).astype(float)
    exposure = _standardise(score)
    exposure_c = np.zeros(n)
    exposure_c[contact] = _standardise(score[contact])

    # citizenship of the clients met (multiple response, asked if contact)
    cit = {k: (rng.random(n) < p) & contact for k, p in cal["citizenship"].items()}
    nothing = contact & ~np.any(np.column_stack(list(cit.values())), axis=1)
    cit["ukraine"] = cit["ukraine"] | nothing
    for key, ticked in cit.items():
        v[f"citizenship_{key}"] = ticked
    countries = np.array(cal["other_countries"], dtype=object)
    other_text = np.where(cit["other"], countries[rng.integers(0, len(countries), n)], "")

    # estimated share of foreign clients (%)
    fs = cal["foreign_share"]
    log_share = (np.log(fs["median"]) + fs["frequency_slope"] * (freq - 2)
                 + fs["sigma"] * rng.standard_normal(n))
    share = np.clip(np.exp(log_share), 0.1, fs["max"])
    whole = rng.random(n) < fs["whole_number_share"]
    # tenths as integer / 10: the same double as parsing the written "2.3"
    share = np.where(whole, np.round(share), np.round(share * 10) / 10)
    blank_rate = np.where(is_papi, cal["papi"]["foreign_share_blank"],
                          cal["cawi"]["foreign_share_blank"])
    share[~contact | (rng.random(n) < blank_rate)] = np.nan
    v["foreign_share"] = share

    # problems met (multiple response with an exclusive "none")
    pr = cal["problems"]
    propensity = 0.6 * exposure_c + 0.8 * rng.standard_normal(n)
    none = contact & (rng.random(n) < _expit(_logit(pr["none"]) - pr["frequency_effect"]
                                             * propensity))
    probs = {}
    for key, p in pr["prevalence"].items():
        probs[key] = contact & ~none & (rng.random(n) < _expit(_logit(p) + pr["frequency_effect"]
                                                               * propensity))
    no_problem = contact & ~none & ~np.any(np.column_stack(list(probs.values())), axis=1)
    probs["language"] = probs["language"] | no_problem
    for name in codebook.items("problem"):
        key = name.removeprefix("problem_")
        v[name] = none if key == "none" else probs[key]

    # centres: respondents of one (subregion, gmina type, institution) cell work in a few
    # centres; a separate stream keeps every other draw as it was without centres
    centre, centre_effect = _centres(np.random.default_rng([seed, 1]), cal["centres"], v)
    v["centre_id"] = centre.astype(float)

    # Likert batteries: one factor each, correlated with exposure; "don't know" = 9
    lk = cal["likert"]
    for group in ("difficulty", "ready"):
        e, lam = lk["exposure_effect"][group], lk["loading"][group]
        noise = rng.standard_normal(n)
        if group == "ready":
            icc = cal["centres"]["readiness_icc"]
            factor = e * exposure + np.sqrt(1 - e**2 - icc) * noise + np.sqrt(icc) * centre_effect
            ready_factor = factor
        else:
            factor = e * exposure + np.sqrt(1 - e**2) * noise
        for name in codebook.likert_items(group):
            latent = lam * factor + np.sqrt(1 - lam**2) * rng.standard_normal(n)
            dist = lk["distributions"][name]
            codes = _cut(latent, dict(zip(range(1, len(dist) + 1), dist, strict=True)))
            if group == "difficulty":
                dk_rate = np.where(contact, lk["dont_know"]["difficulty_with_contact"],
                                   lk["dont_know"]["difficulty_without_contact"])
            else:
                dk_rate = np.where(is_papi, lk["dont_know"]["ready_papi"],
                                   lk["dont_know"]["ready_cawi"])
            v[name] = np.where(rng.random(n) < dk_rate, 9, codes)

    # would take part in training: follows readiness (top = yes, bottom = no, middle = dk)
    wt = cal["want_training"]
    w = 0.8 * ready_factor + 0.6 * rng.standard_normal(n)
    v["want_training"] = _cut(w, {2: wt[2], 9: wt[9], 1: wt[1]})

    # paper forms: items left empty
    blank_vars = [x for x in codebook.variables
                  if codebook.type(x) in _PAPI_BLANK_TYPES or x in _PAPI_BLANK_VARS]
    blanks = rng.random((n, len(blank_vars))) < cal["papi"]["blank_rate"]
    blanks &= is_papi[:, None]
    for j, name in enumerate(blank_vars):
        v[name] = np.where(blanks[:, j], -1, v[name])

    # CAWI bookkeeping: ids with gaps, completion times, LimeSurvey seeds
    cw = cal["cawi"]
    started = n_cawi + int(round(cw["incomplete_share"] * n_cawi))
    ids = np.sort(rng.choice(np.arange(1, started + 1), size=n_cawi, replace=False))
    submit = _submit_dates(rng, cal["fieldwork"], n_cawi)
    ls_seed = rng.integers(1, 2**31 - 1, size=n_cawi)
    number = np.concatenate([ids, np.arange(1, n_papi + 1)])

    # PAPI remarks of the person keying the forms
    pp = cal["papi"]
    notes_pool = np.array(pp["notes"], dtype=object)
    has_note = is_papi & contact & (rng.random(n) < pp["note_rate"])
    notes = np.where(has_note, notes_pool[rng.integers(0, len(notes_pool), n)], "")

    tidy = _tidy(codebook, v, number, is_papi, contact)
    return _Sample(tidy, number, n_cawi, submit, ls_seed, other_text, notes)


def _tidy(codebook: Codebook, v: dict[str, Any], number: np.ndarray, is_papi: np.ndarray,
          contact: np.ndarray) -> pd.DataFrame:
    fmt = {m: codebook.sources[m]["id_format"] for m in ("cawi", "papi")}
    cols: dict[str, Any] = {
        "respondent_id": pd.Series(
            [fmt["papi" if p else "cawi"].format(int(k)) for k, p in zip(number, is_papi,
                                                                          strict=True)],
            dtype="str"),
        "mode": pd.Series(np.where(is_papi, "PAPI", "CAWI"), dtype="str"),
    }
    for name in codebook.variables[2:]:
        kind = codebook.type(name)
        x = v[name]
        if kind == "multi":
            cols[name] = pd.Series(pd.array(np.where(contact, x, None), dtype="boolean"))
        elif kind == "numeric":
            cols[name] = pd.Series(pd.array(x, dtype="Float64"))
        else:
            cols[name] = pd.Series(pd.array(np.where(x < 0, None, x), dtype="Int64"))
    return pd.DataFrame(cols)


# --- rendering the two files -----------------------------------------------------------------
def _render_cawi(codebook: Codebook, cal: dict[str, Any], s: _Sample) -> bytes:
    k = s.n_cawi
    t = s.tidy.iloc[:k]
    cols = {
        "id": s.number[:k].astype(str),
        "submitdate": s.submitdate,
        "lastpage": np.full(k, str(cal["cawi"]["lastpage"]), dtype=object),
        "startlanguage": np.full(k, "pl", dtype=object),
        "seed": s.ls_seed.astype(str),
    }
    for name, col in codebook.columns("cawi").items():
        if name == "respondent_id":
            continue
        var = codebook.variable(name)
        x = t[name]
        if var.type == "multi":
            if var.other_text:
                cols[col] = s.other_text[:k]
            else:
                cols[col] = np.where(x.fillna(False).to_numpy(dtype=bool), "Y", "")
        elif var.type == "numeric":
            cols[col] = _numbers(x, ".")
        elif var.raw_values.get("cawi"):
            back = {code: raw for raw, code in var.raw_values["cawi"].items()}
            cols[col] = np.array([back[c] if pd.notna(c) else "" for c in x], dtype=object)
        else:
            cols[col] = _codes(x)
    header = list(cols)
    quote = lambda value: '"' + value.replace('"', '""') + '"'  # noqa: E731
    lines = [";".join(quote(h) for h in header)]
    lines += [";".join(quote(str(val)) for val in row) for row in zip(*cols.values(),
                                                                      strict=True)]
    text = "\ufeff" + "\r\n".join(lines) + "\r\n" + "\r\n"  # CsvWriter::close adds a blank line
    return text.encode("utf-8")


def _render_papi(codebook: Codebook, s: _Sample) -> bytes:
    k = s.n_cawi
    t = s.tidy.iloc[k:]
    cols: dict[str, Any] = {}
    for name, col in codebook.columns("papi").items():
        var = codebook.variable(name)
        if name == "respondent_id":
            cols[col] = s.number[k:].astype(str)
            continue
        x = t[name]
        if var.type == "multi":
            cols[col] = np.array(["" if pd.isna(b) else ("1" if b else "0") for b in x],
                                 dtype=object)
        elif var.type == "numeric":
            cols[col] = _numbers(x, ",")
        else:
            cols[col] = _codes(x)
    cols[_PAPI_NOTES] = s.notes[k:]
    lines = [";".join(_excel_quote(h) for h in cols)]
    lines += [";".join(_excel_quote(str(val)) for val in row) for row in zip(*cols.values(),
                                                                            strict=True)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1250")


def _excel_quote(value: str) -> str:
    if any(ch in value for ch in ';"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _codes(x: pd.Series) -> np.ndarray:
    return np.array(["" if pd.isna(c) else str(int(c)) for c in x], dtype=object)


def _numbers(x: pd.Series, decimal: str) -> np.ndarray:
    out = []
    for val in x:
        if pd.isna(val):
            out.append("")
        elif float(val).is_integer():
            out.append(str(int(val)))
        else:
            out.append(f"{float(val):.1f}".replace(".", decimal))
    return np.array(out, dtype=object)


# --- small numerical helpers ---------------------------------------------------------------
def _centres(rng: np.random.Generator, cal: dict[str, Any], v: dict[str, Any]
             ) -> tuple[np.ndarray, np.ndarray]:
    """Centre number (1..K) per respondent and each respondent's standard-normal centre effect.

    Respondents of one (subregion, gmina type, institution) cell are spread over
    round(cell size / ``mean_size``) centres (at least one); centres are numbered cell by
    cell in sorted order.
    """
    cells = np.column_stack([v["subregion"], v["gmina_type"], v["institution"]])
    keys, cell = np.unique(cells, axis=0, return_inverse=True)
    sizes = np.bincount(cell, minlength=len(keys))
    per_cell = np.maximum(1, np.round(sizes / cal["mean_size"])).astype(int)
    offset = np.r_[0, np.cumsum(per_cell)[:-1]]
    within = np.floor(rng.random(len(cell)) * per_cell[cell]).astype(int)
    centre = offset[cell] + within + 1
    effect = rng.standard_normal(int(per_cell.sum()))
    return centre, effect[centre - 1]


def _probs(dist: dict[Any, float]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.array(list(dist))
    p = np.array([float(x) for x in dist.values()])
    return codes, p / p.sum()


def _draw(rng: np.random.Generator, dist: dict[Any, float], n: int) -> np.ndarray:
    codes, p = _probs(dist)
    idx = np.searchsorted(np.cumsum(p)[:-1], rng.random(n), side="right")
    return codes[idx]


def _draw_by(rng: np.random.Generator, table: dict[Any, dict[Any, float]],
             cond: np.ndarray) -> np.ndarray:
    u = rng.random(len(cond))
    out = np.zeros(len(cond), dtype=int)
    for key, dist in table.items():
        codes, p = _probs(dist)
        mask = cond == key
        out[mask] = codes[np.searchsorted(np.cumsum(p)[:-1], u[mask], side="right")]
    return out


def _cut(latent: np.ndarray, dist: dict[Any, float]) -> np.ndarray:
    """Codes of ``dist`` in listed order, cut at the sample quantiles of ``latent``."""
    codes, p = _probs(dist)
    if len(latent) == 0:
        return np.zeros(0, dtype=int)
    thresholds = np.quantile(latent, np.cumsum(p)[:-1])
    return codes[np.searchsorted(thresholds, latent, side="right")]


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _submit_dates(rng: np.random.Generator, fieldwork: dict[str, str], n: int) -> np.ndarray:
    days = np.arange(np.datetime64(fieldwork["start"]), np.datetime64(fieldwork["end"]) + 1)
    workdays = days[np.is_busday(days)]
    day = np.sort(workdays[rng.integers(0, len(workdays), n)])
    evening = rng.random(n) < 0.1
    secs = np.where(evening, rng.integers(17 * 3600, 22 * 3600, n),
                    rng.integers(7 * 3600 + 1800, 16 * 3600, n))
    stamps = np.sort(day.astype("datetime64[s]") + secs.astype("timedelta64[s]"))
    return np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ").astype(object)


def _check_calibration(cal: Any, codebook: Codebook) -> None:
    def need(ok: bool, problem: str) -> None:
        if not ok:
            raise ParameterError("calibration", problem)

    need(isinstance(cal, dict), "must be a mapping (data/calibration/survey.yaml)")
    for key in ("n", "fieldwork", "cawi", "papi", "characteristics", "contact", "citizenship",
                "other_countries", "foreign_share", "problems", "likert", "want_training",
                "centres"):
        need(key in cal, f"missing key {key!r}")
    need(all(isinstance(cal["n"].get(m), int) and cal["n"][m] > 0 for m in ("cawi", "papi")),
         "n.cawi and n.papi must be positive whole numbers")
    for item in codebook.items("citizenship"):
        need(item.removeprefix("citizenship_") in cal["citizenship"],
             f"citizenship: no share for {item!r}")
    for item in codebook.items("problem"):
        key = item.removeprefix("problem_")
        need(key == "none" or key in cal["problems"]["prevalence"],
             f"problems.prevalence: no share for {item!r}")
    for item in codebook.likert_items():
        dist = cal["likert"]["distributions"].get(item)
        scale = [c for c in codebook.codes(item) if c not in codebook.missing_codes(item)]
        need(dist is not None and len(dist) == len(scale),
             f"likert.distributions.{item}: needs {len(scale)} shares")
    for name, dist in cal["characteristics"].items():
        flat = dist.values() if not isinstance(next(iter(dist.values())), dict) else [
            x for d in dist.values() for x in d.values()]
        need(all(float(x) >= 0 for x in flat), f"characteristics.{name}: negative share")
    need(set(cal["want_training"]) == set(codebook.codes("want_training")),
         "want_training: needs a share for every code of the codebook")
