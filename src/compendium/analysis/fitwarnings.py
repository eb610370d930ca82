"""Warnings raised while a model is fitted, kept as a fact of the result.

A model that did not converge, or whose data separate the outcome, is a result the reader
needs: :func:`noted` wraps a fitting function so that every warning raised inside it (by
statsmodels, firthmodels, NumPy, ...) is recorded, classified (:func:`classify`: convergence,
separation, singular, numeric, other), attached to a returned data frame as
``attrs["fit_issues"]`` and raised again, once per fit, as a :class:`ModelFitWarning` that
names the model and the outcome. The page shows that warning as a note in its language
(:mod:`compendium.publish.warningnotes`); nothing is silenced.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

KINDS = ("convergence", "separation", "singular", "numeric", "other")
_PATTERNS = (
    ("separation", re.compile(r"separat", re.I)),
    ("convergence", re.compile(r"converge|iteration limit|maximum number of iterations|"
                               r"maxiter", re.I)),
    ("singular", re.compile(r"singular|hessian|not positive definite|inver", re.I)),
    ("numeric", re.compile(r"overflow|invalid value|divide by zero|underflow", re.I)),
)

F = TypeVar("F", bound=Callable[..., Any])


def classify(category: type[Warning], message: str) -> str:
    """What a warning says about a fit: one of :data:`KINDS`, from the warning's class name
    (e.g. statsmodels' ``ConvergenceWarning``, ``PerfectSeparationWarning``,
    ``HessianInversionWarning``) and its message."""
    text = f"{category.__name__} {message}"
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return kind
    return "other"


@dataclass(frozen=True)
class FitIssue:
    """One warning of one fit: the model, the outcome, the kind, and the library's words."""

    model: str  # the fitting function's name, e.g. "firth_logistic"
    outcome: str
    kind: str
    category: str  # the warning's class name
    message: str  # verbatim


class ModelFitWarning(UserWarning):
    """The warnings of one fit, raised again with the model and outcome they concern."""

    def __init__(self, issues: tuple[FitIssue, ...]) -> None:
        self.issues = issues
        first = issues[0]
        kinds = ", ".join(dict.fromkeys(i.kind for i in issues))
        where = f" ({first.outcome})" if first.outcome else ""
        super().__init__(f"{first.model}{where}: {kinds}: "
                         + " | ".join(f"{i.category}: {i.message}" for i in issues))


@contextmanager
def recorded(model: str, outcome: str = "") -> Iterator[list[FitIssue]]:
    """Record every warning raised in the block as :class:`FitIssue` (the list yielded is
    filled when the block ends; a warning repeated word for word is kept once)."""
    issues: list[FitIssue] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield issues
    seen = set()
    for w in caught:
        text = str(w.message)
        if (w.category, text) in seen:
            continue
        seen.add((w.category, text))
        issues.append(FitIssue(model, outcome, classify(w.category, text),
                               w.category.__name__, text))


def _outcome(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The outcome column of a call ``f(df, outcome, ...)`` ("" if it has none)."""
    value = kwargs.get("outcome", args[1] if len(args) > 1 else "")
    return value if isinstance(value, str) else ""


def noted(fit: F) -> F:
    """``fit`` recording its warnings (see the module's doc): the result's
    ``attrs["fit_issues"]`` (data frames) lists them, and one :class:`ModelFitWarning` per
    fit that warned carries them to the page. The wrapped function takes one more keyword,
    ``outcome_label``: the name the note gives the outcome when its column has a technical
    name (e.g. ``y``); without it the note names the outcome column."""
    @functools.wraps(fit)
    def wrapper(*args: Any, outcome_label: str | None = None, **kwargs: Any) -> Any:
        with recorded(fit.__name__, outcome_label or _outcome(args, kwargs)) as issues:
            result = fit(*args, **kwargs)
        if hasattr(result, "attrs"):
            result.attrs["fit_issues"] = [asdict(i) for i in issues]
        if issues:
            warnings.warn(ModelFitWarning(tuple(issues)), stacklevel=2)
        return result

    return wrapper  # type: ignore[return-value]
