"""The quality gate: bounds on the run's metrics, read from a thresholds file.

A gate that fails is "the product got worse" (exit 1); a gate that cannot be
checked is a `ConfigError` (exit 2), never a silent pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.evaluation.configs import MODES, RETRIEVALS, ConfigError
from app.evaluation.files import read_json

def load_thresholds(path: Path) -> dict[str, Any]:
    """Read and shape-check the gates file: {section: {group: {metric: {"min"|"max": x}}}}."""
    data = read_json(path, ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    for section, groups in data.items():
        if section == "note":
            continue
        if section not in (*MODES, "squad") or not isinstance(groups, dict):
            raise ConfigError(f"{path}: unknown section {section!r} (use extractive, llm, squad)")
        for group, gates in groups.items():
            for metric, bound in (gates.items() if isinstance(gates, dict) else [(None, None)]):
                if not (isinstance(bound, dict) and len(bound) == 1 and next(iter(bound)) in ("min", "max")
                        and isinstance(next(iter(bound.values())), (int, float))):
                    raise ConfigError(f"{path}: {section}.{group}.{metric}: expected {{\"min\": x}} or {{\"max\": x}}")
    return data


def check_gates(result: dict[str, Any], thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    """Every gate that applies to this run, with its value and whether it held."""
    scopes: list[tuple[str, str, dict[str, Any]]] = []
    for run in result["runs"]:
        for group, gates in thresholds.get(run["mode"], {}).items():
            if group not in run["summary"]:
                raise ConfigError(f"thresholds: no group {group!r} in {run['label']} "
                                  f"(have {', '.join(run['summary'])})")
            scopes.append((f"{run['label']} {group}", run["summary"][group], gates))
    squad = result.get("squad")
    if squad:
        for group, gates in thresholds.get("squad", {}).items():
            values = squad["retrieval"].get(group) or (squad["answers"] if group == "answers" else None)
            if values is None:
                raise ConfigError(f"thresholds: squad group {group!r} is not one of {RETRIEVALS} or 'answers'")
            scopes.append((f"squad {group}", values, gates))
    results = []
    for scope, values, gates in scopes:
        for metric, bound in gates.items():
            if metric not in values:
                raise ConfigError(f"thresholds: unknown metric {metric!r} for {scope}")
            value = values[metric]
            if value is None:
                raise ConfigError(f"thresholds: {scope} {metric} was not measured in this run")
            op, limit = next(iter(bound.items()))
            passed = value >= limit if op == "min" else value <= limit
            results.append({"scope": scope, "metric": metric, "op": op, "bound": limit,
                            "value": value, "passed": passed})
    return results
