"""Editable reference tables under ``data/``: departments, sessions, results, topics."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reply_archive import data


def _load(relpath: str) -> dict:
    path: Path = data.path(*relpath.split("/"))
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _match_key(name: str) -> str:
    """Return the form of a department name used for matching (no 中共, no spaces)."""
    return re.sub(r"\s+", "", name).removeprefix("中共")


@cache
def department_aliases() -> dict[str, str]:
    """Return a map from every known department name (match key) to its canonical name."""
    table: dict[str, str] = {}
    for entry in _load("tables/departments.toml").get("department", []):
        canonical = entry["name"]
        for name in (canonical, *entry.get("aliases", [])):
            table[_match_key(name)] = canonical
    return table


def department_names() -> dict[str, tuple[str, ...]]:
    """Return every name of each department, keyed by its canonical name."""
    names: dict[str, tuple[str, ...]] = {}
    for entry in _load("tables/departments.toml").get("department", []):
        names[entry["name"]] = tuple(dict.fromkeys((entry["name"], *entry.get("aliases", []))))
    return names


def canonical_department(raw: str) -> str | None:
    """Return the canonical full name of a department as signed, or None if unknown."""
    return department_aliases().get(_match_key(raw))


@cache
def _session_years() -> dict[tuple[str, str, str], int]:
    table: dict[tuple[str, str, str], int] = {}
    for entry in _load("tables/sessions.toml").get("assembly", []):
        for label, year in entry.get("sessions", {}).items():
            table[(entry["region"], entry["type"], label)] = int(year)
    return table


def session_year(region: str | None, assembly_type: str | None, label: str | None) -> int | None:
    """Return the year a local plenary session met, from the session table."""
    if not (region and assembly_type and label):
        return None
    return _session_years().get((region, assembly_type, label))


@cache
def _results() -> dict:
    return _load("tables/results.toml")


def result_scheme(region: str | None, assembly_type: str | None) -> str | None:
    """Return the result scheme an assembly is known to use, or None."""
    for entry in _results().get("assembly", []):
        if region and entry["region"] == region and entry["type"] == assembly_type:
            return entry["scheme"]
    return None


def scheme_names() -> tuple[str, ...]:
    """Return the names of the known result schemes."""
    return tuple(_results()["scheme"])


def scheme_resolution(scheme: str, letter: str) -> str | None:
    """Return the resolution level a letter stands for under a scheme."""
    return _results()["scheme"].get(scheme, {}).get(letter)


def stated_resolution(note: str) -> str | None:
    """Return the resolution level an explanation next to the letter states, if any."""
    return next((level for level, cues in _results()["stated"].items() if any(c in note for c in cues)), None)


@dataclass(frozen=True)
class TopicLabel:
    """A second-level topic with its area and cue words."""

    area: str
    name: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class OfficialClass:
    """An official class name mapped onto the taxonomy: its area and maybe a label."""

    area: str
    label: str | None


@dataclass(frozen=True)
class Taxonomy:
    """The topic taxonomy: labels, department priors, official classes, fallback area."""

    labels: tuple[TopicLabel, ...]
    priors: tuple[tuple[str, str], ...]
    fallback: str
    official: tuple[tuple[str, OfficialClass], ...] = ()

    @property
    def areas(self) -> tuple[str, ...]:
        """Return the top-level areas in taxonomy order, fallback last."""
        seen = dict.fromkeys(label.area for label in self.labels)
        return (*seen, self.fallback)


@cache
def taxonomy() -> Taxonomy:
    """Load the topic taxonomy from ``data/taxonomies/topics.toml``."""
    raw = _load("taxonomies/topics.toml")
    labels = tuple(
        TopicLabel(area=area["name"], name=label["name"], cues=tuple(label["cues"]))
        for area in raw["area"]
        for label in area["label"]
    )
    official = tuple(
        (entry["match"], OfficialClass(area=entry["area"], label=entry.get("label")))
        for entry in raw.get("official", [])
    )
    return Taxonomy(
        labels=labels, priors=tuple(raw.get("priors", {}).items()), fallback=raw["fallback"], official=official
    )


def official_topic(name: str | None) -> OfficialClass | None:
    """Map an official class (资源环境类, a page's 主题分类) onto the taxonomy.

    :return: the area, with a label when the class names exactly one; None when the
        class is unknown or its parts point to different areas.
    """
    if not name:
        return None
    found = [entry for match, entry in taxonomy().official if match in name]
    if not found or len({entry.area for entry in found}) > 1:
        return None
    labels = {entry.label for entry in found if entry.label}
    return OfficialClass(area=found[0].area, label=labels.pop() if len(labels) == 1 else None)


# Weights of a cue found in each part of the reply (domain spec §4).
_WEIGHTS = {"title": 3, "headings": 2, "body": 1}
_MIN_SCORE = 2  # one passing mention in the body is not a topic


def classify_topic(
    title: str, headings: str, body: str, department: str | None, official: OfficialClass | None = None
) -> tuple[str, tuple[str, ...]]:
    """Score the taxonomy's cue words and return ``(area, up to three labels)``.

    The area is that of the best label; a department prior only breaks ties between
    labels that the text itself supports. With no supported label the area is the
    taxonomy's fallback (其他). An official class decides the area instead: its label
    comes first, then the labels the text supports, those of its area before others.
    """
    tax = taxonomy()
    texts = {"title": title, "headings": headings, "body": body}
    scores: Counter[TopicLabel] = Counter()
    for label in tax.labels:
        for part, text in texts.items():
            scores[label] += _WEIGHTS[part] * sum(text.count(cue) for cue in label.cues)
    prior_areas = {area for key, area in tax.priors if department and key in department}
    ranked = sorted(
        (label for label, score in scores.items() if score >= _MIN_SCORE),
        key=lambda label: (
            official is not None and label.area == official.area,
            scores[label] + (2 if label.area in prior_areas else 0),
            -tax.labels.index(label),
        ),
        reverse=True,
    )
    names = [label.name for label in ranked]
    if official is not None:
        names = list(dict.fromkeys([official.label, *names] if official.label else names))
        return official.area, tuple(names[:3])
    if not ranked:
        return tax.fallback, ()
    return ranked[0].area, tuple(names[:3])
