"""Declared parameter schemas of the notebooks: the one source of every default.

Each notebook's papermill parameters are described by a pydantic model (types, allowed
values, ranges, default and description). The schema is what an author edits:

- ``params/<notebook>.yaml`` holds only the values that differ from the schema's defaults
  (:func:`redundant_entries` lists any that repeat a default; a test keeps it empty);
- the notebook's ``parameters`` cell must assign exactly the schema's defaults
  (:func:`parameters_cell_problems` compares them; :func:`parameters_cell` writes the cell).

:func:`validate` is called by the runner before any kernel starts, and again by each
notebook's validation cell, so a bad value stops the run at once with a message naming the
parameter and what is allowed. An unknown parameter name is an error, not papermill's silent
warning. ``min_cell`` is a strict integer with a floor (:data:`MIN_CELL_FLOOR`) that only the
documented switch ``not_for_publication: true`` lowers; pages built with it carry a red
"NOT FOR PUBLICATION" banner.
"""

from __future__ import annotations

import ast
import shlex
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from compendium import paths
from compendium.errors import ParameterError

Lang = Literal["pl", "en"]
CITIES = ("Berlin", "Stockholm", "London", "New York")
RESPONDENT_TYPES = ("institution representative", "migrant", "other stakeholder")
AREAS = (
    "Culture",
    "Education",
    "Language learning",
    "Labour market",
    "Social assistance",
    "Information and counselling",
    "Civic participation",
    "Housing",
    "Healthcare",
)
SURVEY_GROUPS = (
    "gmina_type",
    "contact",
    "contact_freq",
    "position",
    "seniority",
    "institution",
    "centre_size",
    "mode",
)


#: The smallest ``min_cell`` a publishable build may use (issue 15).
MIN_CELL_FLOOR = 3
#: ``min_cell``: a strict integer (``true``, ``3.0`` and ``"3"`` are refused); the floor of
#: :data:`MIN_CELL_FLOOR` is checked by :meth:`_Params._min_cell_floor`.
MinCell = Annotated[StrictInt, Field(ge=1, le=50)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: str = Field("data", description="folder holding raw/ and codebooks/")
    output_dir: str = Field("outputs", description="folder receiving tables/, figures/, results/")
    lang: Lang = Field("en", description="language of every label, axis and table header")
    not_for_publication: StrictBool = Field(
        False, description=f"allow min_cell below {MIN_CELL_FLOOR}; pages get a red banner"
    )

    @model_validator(mode="before")
    @classmethod
    def _dirs_from_project_root(cls, data: Any) -> Any:
        """Relative ``*_dir`` values (defaults too) mean the project root's, whatever the cwd.

        A notebook in JupyterLab runs in ``notebooks/``; ``compendium.paths.from_root`` turns
        ``"data"`` into ``"../data"`` there and leaves it ``"data"`` at the root (``make``).
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, field in cls.model_fields.items():
            value = data.get(name, field.default)
            if name.endswith("_dir") and isinstance(value, str):
                data[name] = paths.from_root(value)
        return data

    @field_validator("min_cell", check_fields=False)
    @classmethod
    def _min_cell_floor(cls, value: int, info: ValidationInfo) -> int:
        """Refuse ``min_cell`` below the floor unless the run is marked not for publication."""
        if value < MIN_CELL_FLOOR and not info.data.get("not_for_publication", False):
            raise ValueError(
                f"min_cell {value} is below the floor of {MIN_CELL_FLOOR} for published "
                f"outputs; a build for checking only may go lower with "
                f"`-p not_for_publication true` (every page then says NOT FOR PUBLICATION)"
            )
        return value


SURVEY_OUTCOMES = (
    "readiness_score",
    "ready",
    "want_training",
    "problem_language",
    "problem_interpreters",
    "problem_legal_status",
    "problem_rights_knowledge",
    "problem_procedures",
    "problem_culture",
    "problem_distrust",
    "problem_cooperation",
)


class TestFamily(BaseModel):
    """One family of tests of the survey's analysis plan, corrected together."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    __test__ = False  # not a pytest test class

    outcomes: list[Literal[SURVEY_OUTCOMES]] = Field(min_length=1)  # type: ignore[valid-type]
    by: list[Literal[SURVEY_GROUPS]] | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description="grouping variables; None: the notebook's group_by"
    )
    correction: Literal["holm", "fdr_bh", "bonf", "none"] | None = Field(
        None, description="multiple-testing correction; None: the notebook's p_adjust"
    )


class SurveyAnalysisPlan(BaseModel):
    """Declared before the data are seen: primary outcomes and the families of tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary_outcomes: list[Literal[SURVEY_OUTCOMES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["readiness_score", "want_training"], min_length=1
    )
    groups: TestFamily = Field(
        default_factory=lambda: TestFamily(
            outcomes=["readiness_score", "problem_language", "problem_legal_status"],
        ),
        description="section 4: who is more ready, who meets which problems",
    )
    mode: TestFamily = Field(
        default_factory=lambda: TestFamily(
            outcomes=["readiness_score", "want_training", "problem_language",
                      "problem_legal_status", "problem_interpreters"],
            by=["mode"],
        ),
        description="section 5: CAWI against PAPI",
    )


class OpsSurveyParams(_Params):
    """Parameters of the Wielkopolska OPS survey notebook."""

    alpha: float = Field(0.05, gt=0, lt=1, description="significance level")
    p_adjust: Literal["holm", "fdr_bh", "bonf", "none"] = Field(
        "holm", description="multiple-testing correction within a family of tests"
    )
    ci_level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of Wilson intervals")
    group_by: list[Literal[SURVEY_GROUPS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["gmina_type", "contact", "position"], min_length=1,
        description="respondent characteristics the answers are compared by",
    )
    min_cell: MinCell = Field(5, description="smallest count a published table may show")
    dont_know_as_missing: bool = Field(True, description="treat 'don't know' answers as missing")
    include_incomplete: bool = Field(
        False, description="count LimeSurvey responses without a submit date as respondents"
    )
    analysis_plan: SurveyAnalysisPlan = Field(
        default_factory=SurveyAnalysisPlan,
        description="primary outcomes, test families and their correction (only these run)",
    )
    seed: int = Field(20240501, ge=0, description="seed of bootstrap, Monte-Carlo and MICE")
    n_boot: int = Field(999, ge=99, le=99_999, description="bootstrap resamples")
    n_imputations: int = Field(20, ge=2, le=200, description="MICE imputations (DK sensitivity)")
    power: float = Field(0.8, gt=0.5, lt=1, description="power of a minimum detectable difference")
    margins_file: str | None = Field(
        None, description="optional YAML of population shares for post-stratification weights"
    )


class _CodedInterviewParams(_Params):
    """What both coded-interview notebooks declare: the primary coder and agreement settings."""

    primary_coder: str = Field(
        "coder_A",
        min_length=1,
        description="whose codings count in double-coded interviews: a coder or 'consensus'",
    )
    kappa_threshold: float = Field(
        0.6, gt=0, lt=1, description="codes with kappa below are flagged"
    )
    n_boot: int = Field(1000, ge=0, le=20000, description="bootstrap resamples for kappa/alpha")


class IdiParams(_CodedInterviewParams):
    """Parameters of the Wielkopolska municipal IDI notebook."""

    areas: list[Literal[AREAS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(AREAS), min_length=1,
        description="areas of integration policy the analysis covers",
    )
    unit: Literal["interview", "segment"] = Field("interview", description="what a count counts")
    min_cell: MinCell = Field(3, description="smallest count a published table may show")
    quotes_per_cell: int = Field(1, ge=0, le=5, description="quotes shown per matrix cell")
    seed: int = Field(2020, ge=0, description="seed of the random choice of quotes")


class FourCitiesParams(_CodedInterviewParams):
    """Parameters of the four-city notebook."""

    cities: list[Literal[CITIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(CITIES), min_length=1, description="cities analysed"
    )
    respondent_types: list[Literal[RESPONDENT_TYPES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(RESPONDENT_TYPES), min_length=1,
        description="respondent types analysed",
    )
    source: Literal["dedoose", "qdpx"] = Field(
        "dedoose", description="export read: Dedoose, or the same interviews as REFI-QDA"
    )
    code_level: Literal["top", "leaf"] = Field("leaf", description="code tree level counted")
    unit: Literal["interview", "segment"] = Field("interview", description="what a count counts")
    cooccurrence_measure: Literal["lift", "count", "jaccard", "conditional", "ochiai"] = Field(
        "lift", description="measure of code co-occurrence (lift: observed / expected)"
    )
    near_universal: float = Field(
        0.9, gt=0, le=1, description="codes in at least this share of interviews are flagged"
    )
    min_code_frequency: int = Field(0, ge=0, description="codes applied fewer times are dropped")
    min_cell: MinCell = Field(3, description="smallest count a published table may show")
    quotes_per_cell: int = Field(1, ge=0, le=5, description="quotes shown per matrix cell")
    seed: int = Field(2022, ge=0, description="seed of the random choice of quotes")


class SynthesisParams(_Params):
    """Parameters of the synthesis notebook."""

    results_dir: str = Field("outputs/results", description="the other notebooks' results")


SCHEMAS: dict[str, type[_Params]] = {
    "01_ops_survey": OpsSurveyParams,
    "02_idi_wielkopolska": IdiParams,
    "03_four_cities": FourCitiesParams,
    "04_synthesis": SynthesisParams,
}


def schema_for(notebook: str) -> type[_Params]:
    """The parameter model of ``notebook`` (its file stem)."""
    try:
        return SCHEMAS[notebook]
    except KeyError:
        raise ParameterError(
            "notebook", f"no parameter schema for {notebook!r}", allowed=sorted(SCHEMAS)
        ) from None


def validate(notebook: str, values: Mapping[str, Any]) -> _Params:
    """Validate ``values`` against ``notebook``'s schema; raise :class:`ParameterError`."""
    model = schema_for(notebook)
    unknown = sorted(set(values) - set(model.model_fields))
    if unknown:
        raise ParameterError(
            unknown[0], f"unknown parameter for {notebook}", allowed=sorted(model.model_fields)
        )
    try:
        return model(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or notebook
        allowed = (err.get("ctx") or {}).get("expected")
        msg = err["msg"].removeprefix("Value error, ")
        raise ParameterError(name, f"{msg} (got {err.get('input')!r})", allowed=allowed) from None


def from_namespace(notebook: str, namespace: Mapping[str, Any]) -> _Params:
    """Validate the parameter variables found in a notebook's namespace (``globals()``)."""
    model = schema_for(notebook)
    values = {k: namespace[k] for k in model.model_fields if k in namespace}
    return validate(notebook, values)


#: Fields of every schema that are set for one run only (``-p name value``), never in a
#: notebook's ``parameters`` cell.
RUN_SWITCHES = ("not_for_publication",)


def defaults(notebook: str) -> dict[str, Any]:
    """The schema's default of every parameter of ``notebook``, in declaration order."""
    values = {
        name: field.get_default(call_default_factory=True)
        for name, field in schema_for(notebook).model_fields.items()
    }
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in values.items()}


def cell_defaults(notebook: str) -> dict[str, Any]:
    """The defaults a notebook's ``parameters`` cell must assign (run switches left out)."""
    return {k: v for k, v in defaults(notebook).items() if k not in RUN_SWITCHES}


def parameters_cell(notebook: str) -> str:
    """The source of ``notebook``'s ``parameters`` cell, written from the schema's defaults."""
    return "\n".join(f"{name} = {value!r}" for name, value in cell_defaults(notebook).items())


def parameters_cell_problems(notebook: str, source: str) -> list[str]:
    """How the ``parameters`` cell ``source`` differs from the schema (empty: it agrees).

    The cell may hold only ``name = literal`` lines; every schema field (run switches
    excepted) must be assigned once, to a value equal to the schema's default.
    """
    expected = cell_defaults(notebook)
    problems: list[str] = []
    found: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            problems.append(f"line {node.lineno}: not a single `name = literal` assignment")
            continue
        name = node.targets[0].id
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            problems.append(f"line {node.lineno}: {name} is computed, not a literal")
            continue
        if name in found:
            problems.append(f"line {node.lineno}: {name} assigned twice")
        found[name] = value
        if name not in expected:
            problems.append(f"line {node.lineno}: {name} is not a parameter of the schema")
        elif not _same(value, expected[name]):
            problems.append(f"line {node.lineno}: {name} = {value!r}, but the schema's "
                            f"default is {expected[name]!r}")
    problems += [f"{name} missing (schema default {expected[name]!r})"
                 for name in expected if name not in found]
    return problems


def redundant_entries(notebook: str, values: Mapping[str, Any]) -> list[str]:
    """Names in a ``params/*.yaml`` mapping whose value only repeats the schema's default."""
    known = defaults(notebook)
    return [name for name, value in values.items()
            if name in known and _same(value, known[name])]


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types (``True`` is not ``1``, ``5`` is not ``5.0``)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def split_overrides(text: str) -> list[tuple[str, str]]:
    """``-p name value ...`` (the ``PARAMS`` variable) as (name, value) pairs.

    The text is split as a POSIX shell would split words (:mod:`shlex`), but nothing in it is
    evaluated: a ``;``, ``$(...)`` or a backquote is just a character of a word. Anything
    that is not a ``-p NAME VALUE`` triple is refused.
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ParameterError("PARAMS", f"cannot be split into words ({exc}): {text!r}") from None
    pairs = []
    for i in range(0, len(words), 3):
        flag, rest = words[i], words[i + 1:i + 3]
        if flag not in ("-p", "--param"):
            raise ParameterError("PARAMS", f"unexpected word {flag!r} in {text!r}",
                                 allowed="-p NAME VALUE ... (quote a VALUE holding spaces)")
        if len(rest) < 2:
            raise ParameterError("PARAMS", f"{flag} {' '.join(rest)!r} lacks a NAME or a VALUE",
                                 allowed="-p NAME VALUE ...")
        pairs.append((rest[0], rest[1]))
    return pairs


def route_overrides(
    notebooks: list[str], overrides: list[tuple[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    """Which overrides apply to each notebook of a run: those naming one of its parameters.

    An override that names a parameter of none of ``notebooks`` is refused, with the
    notebooks that do have it (if any) and the names the run knows.
    """
    routed: dict[str, list[tuple[str, str]]] = {nb: [] for nb in notebooks}
    for name, raw in overrides:
        takers = [nb for nb in notebooks if name in schema_for(nb).model_fields]
        if not takers:
            elsewhere = [nb for nb in SCHEMAS if name in SCHEMAS[nb].model_fields]
            problem = (f"no notebook of this run ({', '.join(notebooks)}) has it"
                       + (f"; it belongs to {', '.join(elsewhere)}" if elsewhere else ""))
            known = sorted({f for nb in notebooks for f in schema_for(nb).model_fields})
            raise ParameterError(name, problem, allowed=known)
        for nb in takers:
            routed[nb].append((name, raw))
    return routed


def describe(notebook: str) -> list[tuple[str, str, str]]:
    """(name, default, description or allowed values) for ``make help`` and the README."""
    rows = []
    for name, value in defaults(notebook).items():
        field = schema_for(notebook).model_fields[name]
        rows.append((name, repr(value), field.description or _type_text(field.annotation)))
    return rows


def _type_text(annotation: Any) -> str:
    """'one of a, b' / 'list of: a, b' / the type's name, for people."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "one of: " + ", ".join(map(str, args))
    if origin is list and args and get_origin(args[0]) is Literal:
        return "list of: " + ", ".join(map(str, get_args(args[0])))
    return getattr(annotation, "__name__", str(annotation))


def main() -> int:
    """Print every notebook's parameters with defaults (used by ``make help``)."""
    for notebook in SCHEMAS:
        print(f"Parameters of {notebook} (params/{notebook}.yaml):")
        for name, default, desc in describe(notebook):
            print(f"  {name:22} {default:32} {desc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
