"""The block registry: which builder makes the Pyomo block of each asset kind.

A block module registers its builder with :func:`register`; the package
(:mod:`vpp.model.blocks`) imports every built-in block module once, so the registry is
full as soon as anything under ``vpp.model.blocks`` is imported. This module imports
nothing from the blocks.
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
            f"no block builder for asset kind '{kind}'; known: {sorted(_BUILDERS)}"
        ) from None


def kinds() -> list[str]:
    """Every registered asset kind, sorted."""
    return sorted(_BUILDERS)
