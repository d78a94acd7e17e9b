"""The block registry: which builder makes the Pyomo block of each asset kind.

Each asset unit's ``build`` is registered here by :func:`vpp.assets.registry.register`
(importing :mod:`vpp.assets` registers every built-in unit). This module imports
nothing from the units.
"""

from __future__ import annotations

from collections.abc import Callable

Builder = Callable[..., None]

_BUILDERS: dict[str, Builder] = {}


def register(kind: str) -> Callable[[Builder], Builder]:
    """Register ``func`` as the builder of asset kind ``kind``.

    Parameters
    ----------
    kind : str
        The asset kind, as :class:`vpp.model.build.AssetInput` names it.

    Returns
    -------
    callable
        A decorator that records the builder and returns it unchanged.
    """

    def wrap(func: Builder) -> Builder:
        if kind in _BUILDERS:
            raise ValueError(f"asset kind '{kind}' is registered twice")
        _BUILDERS[kind] = func
        return func

    return wrap


def builder(kind: str) -> Builder:
    """The builder registered for ``kind``.

    Raises
    ------
    ValueError
        If no builder is registered for ``kind``.
    """
    try:
        return _BUILDERS[kind]
    except KeyError:
        raise ValueError(
            f"no block builder for asset kind '{kind}'; known: {sorted(_BUILDERS)} "
            "(importing vpp.assets registers the built-in units)"
        ) from None


def kinds() -> list[str]:
    """Every registered asset kind, sorted."""
    return sorted(_BUILDERS)
