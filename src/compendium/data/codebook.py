"""The survey codebook: variables, question texts and answer labels in Polish and English.

:func:`load_codebook` reads and validates a codebook YAML (``data/codebooks/ops_survey.yaml``
documents the layout in its header comment) and returns a :class:`Codebook`. Every variable
has a tidy ``name``, a ``type`` (see :data:`TYPES`), its column in each raw source (``cawi``,
``papi``), a short ``label`` and a ``question`` in ``pl`` and ``en``; coded variables list
their answer ``codes`` (the listed order is the order of an ordinal or Likert scale) and
``missing`` codes (answers that are not values on the scale, such as 9 = "don't know").
Items of a multiple-response question or a Likert battery share a ``group`` that carries
the question text, the routing and (for Likert) the answer scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compendium.errors import DataError, ParameterError

LANGS = ("pl", "en")
#: Variable types. ``id`` and ``mode`` are strings; ``multi`` is one 0/1 option of a
#: multiple-response question; ``numeric`` is a number with ``min``/``max``; the rest are coded.
TYPES = ("id", "mode", "nominal", "ordinal", "binary", "multi", "likert", "numeric")
CODED_TYPES = ("nominal", "ordinal", "binary", "likert")
ORDERED_TYPES = ("ordinal", "likert")
SOURCES = ("cawi", "papi")
_VARIABLE_KEYS = {
    "name", "type", "cawi", "papi", "label", "question", "codes", "missing", "group",
    "asked_if", "min", "max", "decimals", "cawi_values", "papi_values", "cawi_other_text",
    "exclusive", "scale", "note", "optional",
}


@dataclass(frozen=True)
class Variable:
    """One tidy variable as the codebook declares it (group and scale already resolved)."""

    name: str
    type: str
    label: dict[str, str]
    question: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)  # source -> raw column name
    codes: dict[Any, dict[str, str]] = field(default_factory=dict)
    missing: dict[int, dict[str, str]] = field(default_factory=dict)
    group: str | None = None
    asked_if: dict[str, int] | None = None
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    raw_values: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> map
    other_text: bool = False
    exclusive: bool = False
    optional: bool = False  # the raw column may be absent: the tidy column is then all NA

    @property
    def all_codes(self) -> list[Any]:
        """Valid codes: the answer codes in order, then the missing codes."""
        return [*self.codes, *self.missing]


class Codebook:
    """A validated survey codebook. Build it with :func:`load_codebook`."""

    def __init__(
        self,
        path: Path,
        study: dict[str, Any],
        rules: dict[str, Any],
        sources: dict[str, dict[str, Any]],
        groups: dict[str, dict[str, Any]],
        variables: list[Variable],
    ) -> None:
        self.path = path
        self.study = study
        self.rules = rules
        self.sources = sources
        self.groups = groups
        self._vars = {v.name: v for v in variables}

    def __repr__(self) -> str:
        return f"Codebook({self.path.name!r}, {len(self._vars)} variables)"

    # --- lookup -------------------------------------------------------------------------
    @property
    def variables(self) -> list[str]:
        """Tidy variable names in codebook (= tidy table) order."""
        return list(self._vars)

    def variable(self, name: str) -> Variable:
        """The declaration of one variable; ParameterError for an unknown name."""
        try:
            return self._vars[name]
        except KeyError:
            raise ParameterError(
                "name", f"{name!r} is not a variable of codebook {self.path.name}",
                allowed="Codebook.variables",
            ) from None

    def type(self, name: str) -> str:
        """The variable's type (one of :data:`TYPES`)."""
        return self.variable(name).type

    def of_type(self, *types: str) -> list[str]:
        """Names of the variables of the given types, in codebook order."""
        bad = [t for t in types if t not in TYPES]
        if bad:
            raise ParameterError("types", f"unknown type(s) {bad}", allowed=TYPES)
        return [n for n, v in self._vars.items() if v.type in types]

    def ordered(self, name: str) -> bool:
        """True for ordinal and Likert variables (their codes form a scale)."""
        return self.type(name) in ORDERED_TYPES

    def question(self, name: str, lang: str) -> str:
        """Full question text in ``lang`` ("pl" or "en")."""
        return self.variable(name).question[_check_lang(lang)]

    def label(self, name: str, lang: str) -> str:
        """Short label of the variable (for an option or battery item: its own text)."""
        return self.variable(name).label[_check_lang(lang)]

    def labels(self, name: str, lang: str) -> dict[Any, str]:
        """Answer code -> label in ``lang``: scale codes in order, then missing codes.

        Defined for coded variables and ``mode``; ParameterError for other types.
        """
        lang = _check_lang(lang)
        var = self.variable(name)
        if var.type not in (*CODED_TYPES, "mode"):
            raise ParameterError(
                "name", f"{name!r} is of type {var.type!r} and has no answer labels",
                allowed=f"variables of type {', '.join((*CODED_TYPES, 'mode'))}",
            )
        out = {code: lab[lang] for code, lab in var.codes.items()}
        out.update({code: lab[lang] for code, lab in var.missing.items()})
        return out

    def codes(self, name: str) -> list[Any]:
        """Every valid code of a coded variable (scale codes, then missing codes)."""
        return self.variable(name).all_codes

    def missing_codes(self, name: str) -> list[int]:
        """Declared missing-value codes of the variable (empty list when none)."""
        return list(self.variable(name).missing)

    def items(self, prefix_or_group: str) -> list[str]:
        """Variables of a group (``"problem"``) or, failing that, with a name prefix
        (``"problem_"``), in codebook order. ParameterError when nothing matches."""
        names = [n for n, v in self._vars.items() if v.group == prefix_or_group]
        if not names:
            names = [n for n in self._vars if n.startswith(prefix_or_group)]
        if not names:
            raise ParameterError(
                "prefix_or_group", f"no variable in group or with prefix {prefix_or_group!r}",
                allowed=sorted(self.groups),
            )
        return names

    def likert_items(self, group: str | None = None) -> list[str]:
        """Likert items, all or of one battery (``"difficulty"``, ``"ready"``)."""
        if group is not None and group not in self.groups:
            raise ParameterError("group", f"unknown group {group!r}", allowed=sorted(self.groups))
        return [
            n for n, v in self._vars.items()
            if v.type == "likert" and (group is None or v.group == group)
        ]

    def column(self, name: str, source: str) -> str | None:
        """Raw column of the variable in ``source`` ("cawi" or "papi"); None if derived."""
        if source not in SOURCES:
            raise ParameterError("source", f"unknown source {source!r}", allowed=SOURCES)
        return self.variable(name).columns.get(source)

    def columns(self, source: str) -> dict[str, str]:
        """Tidy name -> raw column for every variable present in ``source``."""
        if source not in SOURCES:
            raise ParameterError("source", f"unknown source {source!r}", allowed=SOURCES)
        return {n: v.columns[source] for n, v in self._vars.items() if source in v.columns}

    @property
    def dont_know_as_missing(self) -> bool:
        """The codebook's default for the "don't know" rule."""
        return bool(self.rules["dont_know_as_missing"]["default"])

    @property
    def dont_know_types(self) -> list[str]:
        """Variable types the "don't know as missing" rule covers."""
        return list(self.rules["dont_know_as_missing"]["applies_to"])

    def rule_text(self, rule: str, lang: str) -> str:
        """The documented text of a rule (``"dont_know_as_missing"``, ``"routing"``, ...)."""
        lang = _check_lang(lang)
        if rule not in self.rules:
            raise ParameterError("rule", f"unknown rule {rule!r}", allowed=sorted(self.rules))
        return self.rules[rule]["text"][lang]


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ParameterError("lang", f"unsupported language {lang!r}", allowed=LANGS)
    return lang


# --- loading and validation ------------------------------------------------------------
def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML; DataError naming the file and the variable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, "codebook file not found") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"codebook is not UTF-8 text ({exc.reason})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataError(path, f"not valid YAML: {problem}", row=row) from None
    return _build(path, doc)


def _build(path: Path, doc: Any) -> Codebook:
    v = _Validator(path)
    v.require(isinstance(doc, Mapping), "the codebook must be a mapping", "top-level keys")
    for key in ("study", "rules", "sources", "variables"):
        v.require(key in doc, f"missing top-level key {key!r}", "study, rules, sources, variables")
    study = doc["study"]
    v.require(isinstance(study, Mapping), "'study' must be a mapping")
    for key in ("n", "fieldwork", "title"):
        v.require(key in study, f"study: missing key {key!r}")
    v.require(isinstance(study["n"], int) and study["n"] > 0, "study.n must be a positive integer")
    rules = doc["rules"]
    v.require(isinstance(rules, Mapping) and "dont_know_as_missing" in rules,
              "rules: missing 'dont_know_as_missing'")
    dk = rules["dont_know_as_missing"]
    v.require(isinstance(dk, Mapping) and isinstance(dk.get("default"), bool),
              "rules.dont_know_as_missing.default must be true or false")
    applies = dk.get("applies_to", [])
    v.require(isinstance(applies, list) and all(isinstance(t, str) for t in applies)
              and set(applies) <= set(TYPES),
              "rules.dont_know_as_missing.applies_to lists unknown types", f"types from {TYPES}")
    for rule_name, rule in rules.items():
        v.require(isinstance(rule, Mapping), f"rule {rule_name!r} must be a mapping")
        v.texts(rule.get("text"), f"rule {rule_name!r} text")
    sources = doc["sources"]
    for src in SOURCES:
        v.require(isinstance(sources, Mapping) and src in sources, f"sources: missing {src!r}")
        v.require(isinstance(sources[src], Mapping), f"sources.{src} must be a mapping",
                  found=sources[src])
        for key in ("encoding", "sep", "decimal", "id_format", "multi_ticked", "multi_unticked"):
            v.require(key in sources[src], f"sources.{src}: missing key {key!r}")
        try:
            sources[src]["id_format"].format(1)
        except (ValueError, IndexError, KeyError, AttributeError):
            v.fail(f"sources.{src}.id_format is not a format for one number",
                   "e.g. 'CAWI-{:04d}'")
        _check_source(v, src, sources[src])
    scales = doc.get("scales") or {}
    groups = doc.get("groups") or {}
    v.require(isinstance(scales, Mapping) and isinstance(groups, Mapping),
              "'scales' and 'groups' must be mappings")
    for sname, scale in scales.items():
        v.require(isinstance(scale, Mapping), f"scale {sname!r} must be a mapping", found=scale)
    for gname, g in groups.items():
        v.require(isinstance(g, Mapping), f"group {gname!r} must be a mapping")
        v.require(g.get("type") in ("multi", "likert"), f"group {gname!r}: type must be "
                  "multi or likert", found=g.get("type"))
        v.texts(g.get("question"), f"group {gname!r} question")
        if g["type"] == "likert":
            v.require(isinstance(g.get("scale"), str) and g["scale"] in scales,
                      f"group {gname!r}: unknown scale",
                      f"one of {sorted(scales)}", found=g.get("scale"))
    raw_vars = doc["variables"]
    v.require(isinstance(raw_vars, list) and raw_vars, "'variables' must be a non-empty list")
    variables = [_variable(v, i, raw, scales, groups) for i, raw in enumerate(raw_vars, 1)]
    _cross_checks(v, variables, groups)
    return Codebook(path, dict(study), dict(rules), dict(sources), dict(groups), variables)


def _check_source(v: _Validator, src: str, spec: Mapping) -> None:
    """The reading settings of one raw source: what the CSV readers will be handed."""
    enc = spec["encoding"]
    try:  # LookupError also for codecs that are not text encodings (base64)
        b" ".decode(enc)
    except UnicodeDecodeError:
        pass  # a text encoding that needs more than one byte (utf-16)
    except (LookupError, TypeError):
        v.fail(f"sources.{src}.encoding is not a text encoding", "e.g. utf-8-sig or cp1250",
               found=enc)
    sep = spec["sep"]
    v.require(isinstance(sep, str) and len(sep) == 1 and sep not in '"\r\n',
              f"sources.{src}.sep must be one character", "e.g. ';'", found=sep)
    v.require(spec["decimal"] in (".", ","), f"sources.{src}.decimal must be '.' or ','",
              found=spec["decimal"])
    for key in ("multi_ticked", "multi_unticked", "known_columns"):
        marks = spec.get(key, [])
        v.require(isinstance(marks, list) and all(isinstance(x, str) for x in marks)
                  and (marks or key == "known_columns"),
                  f"sources.{src}.{key} must be a list of texts", "e.g. ['Y']", found=marks)


class _Validator:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str, expected: str | None = None, found: object = None) -> None:
        raise DataError(self.path, problem, expected=expected, found=found)

    def require(self, ok: bool, problem: str, expected: str | None = None,
                found: object = None) -> None:
        if not ok:
            self.fail(problem, expected, found)

    def texts(self, value: Any, what: str) -> dict[str, str]:
        ok = isinstance(value, Mapping) and all(
            isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGS
        )
        self.require(ok, f"{what}: needs non-empty text in both languages",
                     "a mapping with keys 'pl' and 'en'", found=value)
        return {lang: value[lang] for lang in LANGS}


def _variable(v: _Validator, i: int, raw: Any, scales: Mapping, groups: Mapping) -> Variable:
    v.require(isinstance(raw, Mapping) and isinstance(raw.get("name"), str),
              f"variable number {i} has no name", "a mapping with 'name'", found=raw)
    name = raw["name"]
    where = f"variable {name!r}"
    unknown = set(raw) - _VARIABLE_KEYS
    v.require(not unknown, f"{where}: unknown keys {sorted(unknown)}",
              f"keys from {sorted(_VARIABLE_KEYS)}")
    vtype = raw.get("type")
    v.require(vtype in TYPES, f"{where}: unknown type", f"one of {', '.join(TYPES)}", vtype)
    group = raw.get("group")
    g: Mapping = {}
    if group is not None:
        v.require(isinstance(group, str) and group in groups, f"{where}: unknown group",
                  f"one of {sorted(groups)}", group)
        g = groups[group]
        v.require(g["type"] == vtype, f"{where}: type differs from its group {group!r}",
                  g["type"], vtype)
    if vtype in ("multi", "likert"):
        v.require(group is not None, f"{where}: a {vtype} item needs a 'group'")
    label = v.texts(raw.get("label"), f"{where} label")
    question = v.texts(raw.get("question", g.get("question")), f"{where} question")
    columns = {src: raw[src] for src in SOURCES if raw.get(src) is not None}
    for src, col in columns.items():
        v.require(isinstance(col, str) and col.strip() == col and col != "",
                  f"{where}: {src} column must be a non-empty name", found=col)
    if vtype != "mode":
        v.require(set(columns) == set(SOURCES), f"{where}: needs a column in every source",
                  "keys 'cawi' and 'papi'")
    codes: dict[Any, dict[str, str]] = {}
    missing: dict[int, dict[str, str]] = {}
    if vtype in (*CODED_TYPES, "mode"):
        if vtype == "likert":
            scale = scales[g["scale"]]
            raw_codes, raw_missing = scale.get("codes"), scale.get("missing") or {}
        else:
            raw_codes, raw_missing = raw.get("codes"), raw.get("missing") or {}
        v.require(isinstance(raw_codes, Mapping) and len(raw_codes) >= 2,
                  f"{where}: needs at least two answer codes", found=raw_codes)
        v.require(isinstance(raw_missing, Mapping), f"{where}: 'missing' must map codes to "
                  "labels", found=raw_missing)
        key_type = str if vtype == "mode" else int
        for block, target in ((raw_codes, codes), (raw_missing, missing)):
            for code, lab in block.items():
                v.require(isinstance(code, key_type) and not isinstance(code, bool),
                          f"{where}: code must be {key_type.__name__}", found=code)
                v.require(code not in codes and code not in missing,
                          f"{where}: code {code!r} declared twice")
                target[code] = v.texts(lab, f"{where} code {code!r}")
        for lang in LANGS:
            labs = [lab[lang] for lab in (*codes.values(), *missing.values())]
            dup = sorted({x for x in labs if labs.count(x) > 1})
            v.require(not dup, f"{where}: duplicate {lang} labels {dup}",
                      "one label per code")
        if vtype == "binary":
            v.require(set(codes) == {0, 1}, f"{where}: binary codes must be 0 and 1",
                      found=sorted(codes))
    elif "codes" in raw or "missing" in raw:
        v.fail(f"{where}: a {vtype} variable cannot have answer codes")
    minimum = maximum = decimals = None
    if vtype == "numeric":
        minimum, maximum = raw.get("min"), raw.get("max")
        ok = all(isinstance(x, (int, float)) and not isinstance(x, bool)
                 for x in (minimum, maximum))
        v.require(ok and minimum < maximum, f"{where}: numeric needs min < max",
                  "numbers 'min' and 'max'", found=(minimum, maximum))
        decimals = raw.get("decimals", 0)
        v.require(isinstance(decimals, int) and decimals >= 0,
                  f"{where}: decimals must be a whole number >= 0", found=decimals)
    raw_values: dict[str, dict[str, int]] = {}
    for src in SOURCES:
        mapping = raw.get(f"{src}_values")
        if mapping is None:
            continue
        v.require(vtype in CODED_TYPES and isinstance(mapping, Mapping),
                  f"{where}: {src}_values needs a coded variable and a mapping")
        v.require(all(isinstance(x, int) and not isinstance(x, bool) for x in mapping.values())
                  and set(mapping.values()) <= set(codes) | set(missing),
                  f"{where}: {src}_values maps to undeclared codes",
                  f"codes {sorted(codes)}", found=mapping)
        raw_values[src] = {str(k): int(val) for k, val in mapping.items()}
    asked_if = raw.get("asked_if", g.get("asked_if"))
    if asked_if is not None:
        v.require(isinstance(asked_if, Mapping) and len(asked_if) == 1,
                  f"{where}: asked_if must map one variable to one code", found=asked_if)
        asked_if = dict(asked_if)
    return Variable(
        name=name, type=vtype, label=label, question=question, columns=columns,
        codes=codes, missing=missing, group=group, asked_if=asked_if,
        minimum=minimum, maximum=maximum, decimals=decimals, raw_values=raw_values,
        other_text=bool(raw.get("cawi_other_text", False)),
        exclusive=bool(raw.get("exclusive", False)),
        optional=bool(raw.get("optional", False)),
    )


def _cross_checks(v: _Validator, variables: list[Variable], groups: Mapping) -> None:
    names = [x.name for x in variables]
    dup = sorted({n for n in names if names.count(n) > 1})
    v.require(not dup, f"variable names declared twice: {dup}", "unique names")
    by_name = {x.name: x for x in variables}
    for src in SOURCES:
        cols = [x.columns[src] for x in variables if src in x.columns]
        dup = sorted({c for c in cols if cols.count(c) > 1})
        v.require(not dup, f"{src} columns used by two variables: {dup}", "unique columns")
    ids = [x.name for x in variables if x.type == "id"]
    modes = [x.name for x in variables if x.type == "mode"]
    v.require(ids == ["respondent_id"], "exactly one id variable named 'respondent_id' needed",
              found=ids)
    v.require(modes == ["mode"], "exactly one mode variable named 'mode' needed", found=modes)
    for x in variables:
        if x.asked_if is None:
            continue
        (ctl, code), = x.asked_if.items()
        where = f"variable {x.name!r}"
        v.require(ctl in by_name and by_name[ctl].type in CODED_TYPES,
                  f"{where}: asked_if refers to an unknown or uncoded variable", found=ctl)
        v.require(names.index(ctl) < names.index(x.name),
                  f"{where}: asked_if variable {ctl!r} must come before it")
        v.require(code in by_name[ctl].all_codes,
                  f"{where}: asked_if code is not a code of {ctl!r}", found=code)
    for gname in groups:
        v.require(any(x.group == gname for x in variables),
                  f"group {gname!r} has no variables")
