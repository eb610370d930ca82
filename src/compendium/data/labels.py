"""Polish and English display labels of codes and descriptors.

A labels file (YAML) looks like::

    codes:
      'Risks': {pl: Ryzyka, en: Risks}
      'Risks\\Underfunding': {pl: Niedofinansowanie, en: Underfunding}
    attributes:
      city:
        label: {pl: Miasto, en: City}
        values:
          London: {pl: Londyn, en: London}

Every entry needs both ``pl`` and ``en``. Look-ups of names the file does not know
fall back instead of failing, so a figure never breaks on a new code:
an unknown code gives the code's own title (the last part of its backslash path),
an unknown attribute its name, an unknown value the value itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from compendium.errors import DataError, ParameterError

LANGS = ("pl", "en")


@dataclass(frozen=True)
class Labels:
    """Label look-ups for one corpus (``codes``, ``attributes`` and their ``values``)."""

    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def code(self, code_id: str, lang: str) -> str:
        """Label of a code path; an unknown code gives its own title (last path part)."""
        _check_lang(lang)
        entry = self.codes.get(code_id)
        return entry[lang] if entry else code_id.rsplit("\\", 1)[-1]

    def attribute(self, name: str, lang: str) -> str:
        """Label of a descriptor; an unknown descriptor gives its name."""
        _check_lang(lang)
        entry = self.attributes.get(name)
        return entry[lang] if entry else name

    def value(self, name: str, value: str, lang: str) -> str:
        """Label of a descriptor's value; an unknown value gives the value itself."""
        _check_lang(lang)
        entry = self.values.get(name, {}).get(str(value))
        return entry[lang] if entry else str(value)

    def missing(
        self, code_ids: list[str] | pd.Series, doc_attributes: pd.DataFrame | None = None
    ) -> list[str]:
        """Codes, attributes and ``attribute=value`` pairs that have no label (sorted)."""
        out = {f"code {c}" for c in code_ids if c not in self.codes}
        if doc_attributes is not None:
            for name, value in zip(
                doc_attributes["attribute"], doc_attributes["value"], strict=True
            ):
                if name not in self.attributes:
                    out.add(f"attribute {name}")
                if str(value) not in self.values.get(name, {}):
                    out.add(f"value {name}={value}")
        return sorted(out)


def load_labels(path: str | Path) -> Labels:
    """Read a labels YAML file (see the module docstring); DataError on a bad entry."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(path, "file not found", expected="a labels YAML file") from None
    except yaml.YAMLError as exc:
        raise DataError(path, f"not valid YAML ({exc})") from None
    if not isinstance(data, dict) or set(data) - {"codes", "attributes"}:
        raise DataError(
            path,
            "unexpected top-level layout",
            expected="a mapping with the keys 'codes' and 'attributes'",
            found=sorted(data) if isinstance(data, dict) else type(data).__name__,
        )
    codes = {str(k): _pair(v, path, f"codes/{k}") for k, v in (data.get("codes") or {}).items()}
    attributes: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, dict[str, str]]] = {}
    for name, entry in (data.get("attributes") or {}).items():
        where = f"attributes/{name}"
        if not isinstance(entry, dict) or "label" not in entry:
            raise DataError(
                path,
                "an attribute needs a 'label'",
                column=where,
                expected="{label: {pl: ..., en: ...}, values: {...}}",
            )
        attributes[str(name)] = _pair(entry["label"], path, f"{where}/label")
        values[str(name)] = {
            str(v): _pair(lab, path, f"{where}/values/{v}")
            for v, lab in (entry.get("values") or {}).items()
        }
    return Labels(codes=codes, attributes=attributes, values=values)


def _pair(entry: object, path: Path, where: str) -> dict[str, str]:
    if not isinstance(entry, dict) or any(
        not isinstance(entry.get(lang), str) or not entry[lang].strip() for lang in LANGS
    ):
        raise DataError(
            path,
            "a label entry lacks a Polish or English text",
            column=where,
            expected="{pl: <text>, en: <text>}",
            found=entry,
        )
    return {lang: entry[lang] for lang in LANGS}


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ParameterError("lang", f"unknown language {lang!r}", allowed=list(LANGS))
