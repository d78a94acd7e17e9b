"""Emission-factor tables: built-in factors per carrier (data files) and user overrides.

The four carriers of the zone's carbon accounting are ``electricity`` [kgCO2/kWh],
``natural_gas`` [kgCO2/Nm3], ``diesel`` [kgCO2/t] and ``heat`` [kgCO2/GJ]. Each has a
YAML file in ``vpp/emissions/data`` listing named factors, each with its value, its
source and reliability tag and the period it describes (``valid_from``/``valid_to``),
and the carrier's default. A scenario picks a factor by name or gives its own number
(in the carrier's unit); :func:`factor` resolves either into a :class:`Factor`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from vpp.errors import Problem, ScenarioError

__all__ = ["CARRIERS", "Factor", "factor", "factor_names", "list_factors"]

#: The carriers of the carbon account, in report order.
CARRIERS = ("electricity", "natural_gas", "diesel", "heat")


@dataclass(frozen=True)
class Factor:
    """One emission factor, resolved.

    Attributes
    ----------
    carrier : str
        One of :data:`CARRIERS`.
    name : str
        The built-in name, or ``user`` for a number given in the scenario.
    value : float
        Emissions per unit of activity [kgCO2 per ``activity_unit``].
    unit : str
        ``kgCO2/<activity_unit>``.
    activity_unit : str
        ``kWh``, ``Nm3``, ``t`` or ``GJ``.
    source : dict or None
        ``document`` and ``reliability`` of a built-in factor; None for a user number.
    valid_from, valid_to : datetime.date or None
        The period the factor describes (``valid_to`` None: no end date).
    """

    carrier: str
    name: str
    value: float
    unit: str
    activity_unit: str
    source: dict[str, Any] | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a summary (dates as ISO strings)."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "valid_from": None if self.valid_from is None else self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
            "source": copy.deepcopy(self.source),
        }


@functools.cache
def _table(carrier: str) -> dict[str, Any]:
    path = resources.files("vpp.emissions") / "data" / f"{carrier}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def factor_names(carrier: str) -> list[str]:
    """The built-in factor names of ``carrier``, in file order."""
    return [entry["name"] for entry in _table(carrier)["factors"]]


def list_factors(carrier: str | None = None) -> list[dict[str, Any]]:
    """Every built-in factor (of one carrier, or of all), as plain data.

    Returns
    -------
    list of dict
        ``carrier``, ``name``, ``title``, ``value``, ``unit``, ``valid_from``,
        ``valid_to``, ``source`` and ``default`` (bool) per factor.
    """
    rows = []
    for c in CARRIERS if carrier is None else (carrier,):
        table = _table(c)
        for entry in table["factors"]:
            rows.append(
                {
                    "carrier": c,
                    "name": entry["name"],
                    "title": entry["title"],
                    "value": float(entry["value"]),
                    "unit": table["unit"],
                    "valid_from": entry.get("valid_from"),
                    "valid_to": entry.get("valid_to"),
                    "source": copy.deepcopy(entry["source"]),
                    "default": entry["name"] == table["default"],
                }
            )
    return rows


def factor(carrier: str, choice: str | float | None = None, *, key: str | None = None) -> Factor:
    """Resolve a scenario's factor choice for ``carrier``.

    Parameters
    ----------
    carrier : str
        One of :data:`CARRIERS`.
    choice : str, float or None
        A built-in name, a number [kgCO2 per activity unit] (a user override), or None
        for the carrier's default.
    key : str, optional
        The scenario key the choice came from, for the error message.

    Raises
    ------
    ScenarioError
        ``choice`` is a name that is not built in; the message lists the known names.
    """
    if carrier not in CARRIERS:
        raise ValueError(f"unknown carrier {carrier!r}; known: {', '.join(CARRIERS)}")
    table = _table(carrier)
    unit = table["unit"]
    if choice is not None and not isinstance(choice, str):
        return Factor(carrier, "user", float(choice), unit, table["activity_unit"])
    name = table["default"] if choice is None else choice
    for entry in table["factors"]:
        if entry["name"] == name:
            return Factor(
                carrier,
                name,
                float(entry["value"]),
                unit,
                table["activity_unit"],
                source=copy.deepcopy(entry["source"]),
                valid_from=entry.get("valid_from"),
                valid_to=entry.get("valid_to"),
            )
    raise ScenarioError(
        Problem(
            f"unknown {carrier.replace('_', ' ')} emission factor '{name}'",
            key=key,
            value=repr(name),
            allowed=", ".join(factor_names(carrier)) + f", or a number [{unit}]",
            fix="use one of the built-in names (see vpp.emissions.list_factors) or give "
            f"your own factor as a number in {unit}",
        )
    )
