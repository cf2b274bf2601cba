"""Taxonomy model and loader; resolves every spelling of a mode label to its canonical id."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError

Numbering = Literal["paper", "legacy"]
"""'paper': the final MAST paper's codes. 'legacy': the original MAST judge prompt's codes, where 3.2 and 3.3 were
swapped (3.2 = Incorrect Verification, 3.3 = No or Incomplete Verification)."""

_LEGACY_SWAPS = {"FM-3.2": "FM-3.3", "FM-3.3": "FM-3.2"}
_CODE = re.compile(r"^\s*(?:FM)?[\s\-_.]*(\d+)\.(\d+)\b", re.IGNORECASE)


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the same documents, ~10x faster (the taxonomy loads on every run)."""


def _load_yaml(text: str) -> Any:
    """A built-in YAML file's data (files users give are read with `yaml.safe_load`, whose messages they see)."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be loaded, or a label that cannot be resolved."""


class Category(BaseModel):
    """A group of failure modes (MAST: FC1, FC2, FC3)."""

    id: str
    name: str
    description: str = ""


class FailureMode(BaseModel):
    """One failure mode: id, name, category and what it looks like."""

    id: str = Field(description="Canonical id, 'FM-<category>.<n>'.")
    name: str
    category: str = Field(description="Id of the category it belongs to.")
    definition: str
    single_agent: str = Field(default="", description="How it shows in a single-agent, tool-using trace.")
    multi_agent: str = Field(default="", description="How it shows in a multi-agent conversation.")
    aliases: list[str] = Field(default_factory=list, description="Other names labels may use for it.")


class FormerName(BaseModel):
    """A name an earlier version of the taxonomy gave a mode, and the mode it is now (None: dropped since)."""

    name: str
    mode: str | None = Field(description="Canonical id of the mode it became, or None when no mode succeeded it.")
    source: str = Field(description="Where the name was used (a key the taxonomy file explains).")


class Taxonomy(BaseModel):
    """A named, versioned set of categories and failure modes."""

    name: str
    version: str
    categories: list[Category]
    modes: list[FailureMode]
    former_names: list[FormerName] = Field(default_factory=list, description="Names earlier versions used.")
    _names: dict[str, str] | None = PrivateAttr(default=None)

    @property
    def ids(self) -> list[str]:
        """Canonical mode ids in taxonomy order."""
        return [m.id for m in self.modes]

    def mode(self, mode_id: str) -> FailureMode:
        """The mode with canonical id `mode_id` (KeyError if absent)."""
        for m in self.modes:
            if m.id == mode_id:
                return m
        raise KeyError(mode_id)

    def category_of(self, mode_id: str) -> str:
        """Category id of a mode."""
        return self.mode(mode_id).category

    def resolve(self, label: str, *, numbering: Numbering = "paper") -> str | None:
        """Canonical id for a label such as '1.3', 'FM-1.3', 'fm 1.3 Step Repetition' or 'Step Repetition'.

        A name wins over a code when both are given, since names are unambiguous across MAST versions while
        codes are not. Returns None when nothing matches.
        """
        by_name = self._resolve_name(label)
        if by_name is not None:
            return by_name
        match = _CODE.match(label)
        if match is None:
            return None
        mode_id = f"FM-{int(match.group(1))}.{int(match.group(2))}"
        if numbering == "legacy" and self.name == "MAST":
            mode_id = _LEGACY_SWAPS.get(mode_id, mode_id)
        return mode_id if mode_id in self.ids else None

    def dropped(self, label: str) -> FormerName | None:
        """The former name `label` carries when it names a mode that no mode of this version succeeded."""
        text = _normalise_name(_CODE.sub("", label, count=1))
        return next((f for f in self.former_names if f.mode is None and _normalise_name(f.name) == text), None)

    def _resolve_name(self, label: str) -> str | None:
        text = _normalise_name(_CODE.sub("", label, count=1))
        return self._name_index().get(text) if text else None

    def _name_index(self) -> dict[str, str]:
        """Normalised id/name/alias/former name -> mode id, built once (labels are resolved by the thousand)."""
        if self._names is None:
            self._names = {_normalise_name(f.name): f.mode for f in self.former_names if f.mode is not None}
            for m in reversed(self.modes):  # current names win over former ones; the first mode claiming one wins
                self._names.update({_normalise_name(n): m.id for n in [m.id, m.name, *m.aliases]})
        return self._names


def _normalise_name(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return re.sub(r"[^a-z0-9]+", " ", first_line.lower().replace("’", "'").replace("'", "")).strip()


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load a taxonomy from a YAML file; None loads the built-in MAST."""
    if path is None:
        return mast()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return _validated(data)
    except (OSError, yaml.YAMLError, ValidationError, TaxonomyError) as exc:
        raise TaxonomyError(f"{path}: cannot load taxonomy: {_first_line(exc)}") from exc


BUILT_IN = {"mast": "mast.yaml", "agentrx": "agentrx.yaml"}
"""Taxonomies shipped as data, by lower-case name."""


def mast() -> Taxonomy:
    """The built-in MAST taxonomy (14 modes, 3 categories, final-paper numbering)."""
    return built_in("MAST")


def built_in(name: str) -> Taxonomy:
    """A taxonomy shipped with agentmortem, by name (any case): MAST or AgentRx; TaxonomyError for another."""
    if name.lower() not in BUILT_IN:
        raise TaxonomyError(f"no built-in taxonomy {name!r} (built in: MAST, AgentRx)")
    return _load_built_in(name.lower())


@lru_cache(maxsize=len(BUILT_IN))
def _load_built_in(key: str) -> Taxonomy:
    """One object per built-in taxonomy, so callers may compare taxonomies by identity."""
    text = resources.files("agentmortem.taxonomy").joinpath(BUILT_IN[key]).read_text(encoding="utf-8")
    return _validated(_load_yaml(text))


def _validated(data: object) -> Taxonomy:
    taxonomy = Taxonomy.model_validate(data)
    category_ids = {c.id for c in taxonomy.categories}
    for m in taxonomy.modes:
        if m.category not in category_ids:
            raise TaxonomyError(f"mode {m.id!r} names unknown category {m.category!r}")
    if len(set(taxonomy.ids)) != len(taxonomy.ids):
        raise TaxonomyError("duplicate mode ids")
    for former in taxonomy.former_names:
        if former.mode is not None and former.mode not in taxonomy.ids:
            raise TaxonomyError(f"former name {former.name!r} names unknown mode {former.mode!r}")
    return taxonomy


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
