"""The instruments as pages: the survey questionnaire and the interview codebooks.

* ``html/questionnaire.html`` from the survey codebook (``codebooks/ops_survey.yaml``): every
  question in Polish and English with its raw column names (LimeSurvey code, Excel header),
  answer codes and labels, and the routing (``asked_if``) in words;
* ``html/codebook_<study>.html`` for each interview study: the code tree from the Dedoose
  codes export (descriptions) with the labels file's Polish/English labels, the frequencies
  the notebook published (``tables/<notebook>/*.csv`` with ``code_id`` and ``n_documents``)
  and the intercoder agreement it published (``intercoder_agreement.csv``). Only published,
  disclosure-checked tables supply numbers; nothing is recomputed from raw codings here.

Each page is written in the language of its site folder (``lang``): the fixed words from the
message catalogue (:mod:`compendium.publish.language`), the questions, answers and code
labels in that language first and in the other one beside them (marked with ``lang``).
Every data-derived string is escaped by Jinja's autoescape.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from compendium.data.codebook import Codebook, load_codebook
from compendium.publish.display import flag_words
from compendium.publish.language import messages

#: Interview studies: source -> notebook stem (titles: ``codebook.title_<source>`` in the
#: message catalogue).
INTERVIEW_STUDIES = {
    "idi_wielkopolska": "02_idi_wielkopolska",
    "four_cities": "03_four_cities",
}
LANGS = ("pl", "en")


def other(lang: str) -> str:
    """The other language of a bilingual instrument."""
    return "en" if lang == "pl" else "pl"


def _trusted(value: Any) -> Any:
    """Catalogue texts marked safe (the authors' HTML), mappings kept as mappings."""
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return Markup(str(value))


def environment(data_dir: Path | None = None, confidential: bool = False,
                lang: str = "en") -> jinja2.Environment:
    """Jinja environment of the site templates, autoescaping every value; its globals carry
    the page language and its catalogue (``m``), the stylesheet and the synthetic-data
    banner (off for real or confidential data)."""
    from compendium.publish.provenance import dataset_info
    from compendium.publish.runner import TEMPLATES

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "site"),
                             autoescape=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    info = dataset_info(data_dir) if data_dir is not None else {}
    from compendium.publish.render import CSP

    m = _trusted(messages(lang))
    env.globals.update(
        css=(TEMPLATES / "compendium" / "compendium.css").read_text(encoding="utf-8"),
        synthetic=info.get("kind") == "synthetic" and not confidential,
        # the data set's note is written in English; another language has its own
        synthetic_note=str(info.get("note", "")) if lang == "en" else m["page"]["synthetic_note"],
        csp=CSP,
        lang=lang,
        other=other(lang),
        m=m,
    )
    return env


# --- the questionnaire -------------------------------------------------------------------
@dataclass
class Question:
    """One question as printed: a single variable, or a group (battery / multiple response)."""

    key: str
    number: str
    text: dict[str, str]
    kind: str
    items: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    routing: dict[str, str] = field(default_factory=dict)
    bounds: str = ""


def _routing(cb: Codebook, asked_if: dict[str, int] | None) -> dict[str, str]:
    """The routing condition in words, per language (words from the message catalogue)."""
    if not asked_if:
        return {}
    out = {}
    for lang in LANGS:
        words = messages(lang)["questionnaire"]
        parts = []
        for var, code in asked_if.items():
            label = cb.labels(var, lang).get(code, str(code))
            parts.append(f"{cb.variable(var).columns.get('cawi', var)} "
                         f"({cb.label(var, lang)}) = {code} ({label})")
        out[lang] = words["asked_if"] + words["and"].join(parts)
    return out


def _answers(cb: Codebook, name: str) -> list[dict[str, Any]]:
    var = cb.variable(name)
    rows = [{"code": c, "pl": lab["pl"], "en": lab["en"], "missing": False}
            for c, lab in var.codes.items()]
    rows += [{"code": c, "pl": lab["pl"], "en": lab["en"], "missing": True}
             for c, lab in var.missing.items()]
    return rows


def questions(cb: Codebook) -> list[Question]:
    """The codebook's variables folded into questions, in questionnaire order."""
    out: list[Question] = []
    by_group: dict[str, Question] = {}
    for name in cb.variables:
        var = cb.variable(name)
        cols = var.columns
        number = " / ".join(v for v in (cols.get("cawi"), cols.get("papi")) if v)
        if var.group:
            q = by_group.get(var.group)
            if q is None:
                q = Question(var.group, number, dict(var.question), var.type,
                             answers=_answers(cb, name) if var.type == "likert" else [],
                             routing=_routing(cb, var.asked_if))
                by_group[var.group] = q
                out.append(q)
            q.items.append({"column": number, "pl": var.label["pl"], "en": var.label["en"]})
            continue
        bounds = ""
        if var.type == "numeric":
            bounds = f"{var.minimum:g}–{var.maximum:g}"
        answers = _answers(cb, name) if var.type not in ("id", "numeric", "mode") else []
        out.append(Question(name, number, dict(var.question), var.type, answers=answers,
                            routing=_routing(cb, var.asked_if), bounds=bounds))
    return out


def render_questionnaire(codebook_path: Path, env: jinja2.Environment | None = None) -> str:
    """The questionnaire page's HTML (in the language of ``env``)."""
    cb = load_codebook(codebook_path)
    rules = {name: {lang: cb.rule_text(name, lang) for lang in LANGS}
             for name in cb.rules if isinstance(cb.rules[name], dict) and "text" in cb.rules[name]}
    return (env or environment()).get_template("questionnaire.html.j2").render(
        study=cb.study, questions=questions(cb), rules=rules)


# --- the interview codebooks -------------------------------------------------------------
def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def published_code_stats(tables: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """``{code_id: {n_documents, pct_documents, n_segments, kappa, alpha, flag}}`` from the
    notebook's published tables, and the table files they came from."""
    stats: dict[str, dict[str, str]] = {}
    used: list[str] = []
    if not tables.is_dir():
        return stats, used
    for path in sorted(tables.glob("*.csv")):
        rows = _read_csv(path)
        if not rows or "code_id" not in rows[0]:
            continue
        if path.name == "intercoder_agreement.csv":
            keys = ("kappa", "alpha", "flag")
        elif "n_documents" in rows[0]:
            keys = ("n_documents", "pct_documents", "n_segments")
        else:
            continue
        used.append(path.name)
        for row in rows:
            entry = stats.setdefault(row["code_id"], {})
            for k in keys:
                if row.get(k) not in (None, "") and k not in entry:
                    entry[k] = row[k]
    return stats, used


def render_codebook(source: str, data_dir: Path, outputs: Path,
                    env: jinja2.Environment | None = None) -> str:
    """The codebook page of one interview study (in the language of ``env``)."""
    from compendium.data.dedoose import read_dedoose_codes
    from compendium.data.labels import load_labels
    from compendium.data.sources import files_of

    env = env or environment(data_dir)
    stem = INTERVIEW_STUDIES[source]
    words = env.globals["m"]["codebook"]
    files = files_of(source, data_dir)
    codes = read_dedoose_codes(files["codes"])
    labels = load_labels(files["labels"])
    stats, used = published_code_stats(outputs / "tables" / stem)
    rows = []
    for rec in codes.to_dict("records"):
        cid = rec["code_id"]
        rows.append({
            "code_id": cid,
            "level": int(rec["level"]),
            "pl": labels.code(cid, "pl"),
            "en": labels.code(cid, "en"),
            "description": rec["description"] if isinstance(rec["description"], str) else "",
            **{k: _fmt(stats.get(cid, {}).get(k, "")) for k in
               ("n_documents", "pct_documents", "n_segments", "kappa", "alpha")},
            "flag": flag_words(stats.get(cid, {}).get("flag", ""), words["flags"]),
        })
    return env.get_template("codebook.html.j2").render(
        title=words[f"title_{source}"], stem=stem, codes=rows, tables=used)


def _fmt(value: str) -> str:
    """A published number as shown: at most two decimals, integers without decimals."""
    try:
        x = float(value)
    except ValueError:
        return value
    return f"{x:.0f}" if x == int(x) else f"{x:.2f}"


def write_instruments(root: Path, outputs: Path, data_dir: Path | None = None,
                      confidential: bool = False, lang: str = "en") -> list[Path]:
    """Write the questionnaire and the codebook pages in ``lang`` into ``outputs/html``;
    return their paths."""
    from compendium.artifacts import atomic_write_text
    from compendium.data.sources import files_of
    from compendium.publish.confidential import mark_confidential

    data_dir = data_dir or root / "data"
    env = environment(data_dir, confidential, lang)
    pages = {"questionnaire.html": render_questionnaire(
        files_of("ops_survey", data_dir)["codebook"], env)}
    for source in INTERVIEW_STUDIES:
        pages[f"codebook_{source}.html"] = render_codebook(source, data_dir, outputs, env)
    from compendium.publish.runner import add_toc

    pages = {name: add_toc(text, lang) for name, text in pages.items()}
    return [atomic_write_text(outputs / "html" / name,
                              mark_confidential(text, lang) if confidential else text)
            for name, text in pages.items()]
