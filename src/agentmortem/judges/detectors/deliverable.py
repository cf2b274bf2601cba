"""The ITBench SRE deliverable's schema (`agent_output.json`), as AGENTS.md prescribes it, checked in code.

Kept free of any JSON-Schema dependency: the rules are few, and each problem is reported in words a user can act
on ("entities[2].name 'ad' is not namespace/Kind/name").
"""

from __future__ import annotations

import re
from typing import Any

_ENTITY_NAME = re.compile(r"^[^/\s]+/[A-Za-z][A-Za-z0-9]*/[^/\s]+$")
_ARRAYS = ("entities", "propagations", "alerts_explained")


def schema_problems(output: Any) -> list[str]:
    """Every way `output` departs from the ITBench SRE diagnosis schema (empty when it conforms)."""
    if not isinstance(output, dict):
        return [f"the deliverable is a {type(output).__name__}, not an object"]
    problems = [f"{key!r} is missing or not an array" for key in _ARRAYS if not isinstance(output.get(key), list)]
    for i, entity in enumerate(_items(output, "entities")):
        problems += _entity_problems(i, entity)
    for i, link in enumerate(_items(output, "propagations")):
        problems += _propagation_problems(i, link)
    for i, alert in enumerate(_items(output, "alerts_explained")):
        problems += _alert_problems(i, alert)
    return problems


def _items(output: dict[str, Any], key: str) -> list[Any]:
    value = output.get(key)
    return value if isinstance(value, list) else []


def _entity_problems(i: int, entity: Any) -> list[str]:
    if not isinstance(entity, dict):
        return [f"entities[{i}] is not an object"]
    problems = []
    name = entity.get("name")
    if not isinstance(name, str) or not _ENTITY_NAME.match(name):
        problems.append(f"entities[{i}].name {name!r} is not namespace/Kind/name")
    if not isinstance(entity.get("contributing_factor"), bool):
        problems.append(f"entities[{i}].contributing_factor is not true/false")
    return problems


def _propagation_problems(i: int, link: Any) -> list[str]:
    if not isinstance(link, dict):
        return [f"propagations[{i}] is not an object"]
    return [
        f"propagations[{i}].{end} {link.get(end)!r} is not namespace/Kind/name"
        for end in ("source", "target")
        if not isinstance(link.get(end), str) or not _ENTITY_NAME.match(link[end])
    ]


def _alert_problems(i: int, alert: Any) -> list[str]:
    if not isinstance(alert, dict):
        return [f"alerts_explained[{i}] is not an object"]
    problems = []
    if not isinstance(alert.get("alert"), str) or not alert["alert"]:
        problems.append(f"alerts_explained[{i}].alert is missing")
    if not isinstance(alert.get("explained"), bool):
        problems.append(f"alerts_explained[{i}].explained is not true/false")
    return problems
