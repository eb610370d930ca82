"""Declared parameter schemas of the notebooks, and their validation.

Each notebook's papermill parameters are described by a pydantic model
(types, allowed values, ranges). :func:`validate` is called by the runner before
any kernel starts, and again by each notebook's validation cell, so a bad value
stops the run at once with a message naming the parameter and what is allowed.
An unknown parameter name is an error, not papermill's silent warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: str = Field("data", description="folder holding raw/ and codebooks/")
    output_dir: str = Field("outputs", description="folder receiving tables/, figures/, results/")
    lang: Lang = Field("en", description="language of every label, axis and table header")

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


class OpsSurveyParams(_Params):
    """Parameters of the Wielkopolska OPS survey notebook."""

    alpha: float = Field(0.05, gt=0, lt=1, description="significance level")
    p_adjust: Literal["holm", "fdr_bh", "bonf", "none"] = "holm"
    ci_level: float = Field(0.95, gt=0.5, lt=1, description="confidence level of intervals")
    group_by: list[Literal[SURVEY_GROUPS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["gmina_type", "contact", "position"], min_length=1
    )
    min_cell: int = Field(5, ge=1, le=50, description="smallest count a table may show")
    dont_know_as_missing: bool = True


class IdiParams(_Params):
    """Parameters of the Wielkopolska municipal IDI notebook."""

    areas: list[Literal[AREAS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(AREAS), min_length=1
    )
    unit: Literal["interview", "segment"] = "interview"
    min_cell: int = Field(3, ge=1, le=50)
    quotes_per_cell: int = Field(1, ge=0, le=5)
    seed: int = Field(2020, ge=0)


class FourCitiesParams(_Params):
    """Parameters of the four-city notebook."""

    cities: list[Literal[CITIES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(CITIES), min_length=1
    )
    respondent_types: list[Literal[RESPONDENT_TYPES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(RESPONDENT_TYPES), min_length=1
    )
    source: Literal["dedoose", "qdpx"] = "dedoose"
    code_level: Literal["top", "leaf"] = "leaf"
    unit: Literal["interview", "segment"] = "interview"
    cooccurrence_measure: Literal["count", "jaccard", "conditional"] = "jaccard"
    min_code_frequency: int = Field(0, ge=0)
    min_cell: int = Field(3, ge=1, le=50)
    quotes_per_cell: int = Field(1, ge=0, le=5)
    seed: int = Field(2022, ge=0)


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
        raise ParameterError(
            name, f"{err['msg']} (got {err.get('input')!r})", allowed=allowed
        ) from None


def from_namespace(notebook: str, namespace: Mapping[str, Any]) -> _Params:
    """Validate the parameter variables found in a notebook's namespace (``globals()``)."""
    model = schema_for(notebook)
    values = {k: namespace[k] for k in model.model_fields if k in namespace}
    return validate(notebook, values)


def describe(notebook: str) -> list[tuple[str, str, str]]:
    """(name, default, description or allowed values) for ``make help`` and the README."""
    rows = []
    for name, field in schema_for(notebook).model_fields.items():
        default = field.default_factory() if field.default_factory else field.default
        rows.append((name, repr(default), field.description or _type_text(field.annotation)))
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
