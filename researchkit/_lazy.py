"""Lazy re-exports for package ``__init__`` modules (PEP 562).

A package lists its public names and the submodule that defines each one; the name is imported
on first access and cached in the package namespace. This keeps ``import researchkit`` and
``import researchkit.<area>`` cheap: heavy libraries load only with the function that needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build ``__getattr__`` and ``__dir__`` for a package with lazily imported names.

    Parameters
    ----------
    package : str
        The package's ``__name__``, e.g. ``"researchkit.channels"``.
    exports : Mapping[str, str]
        Public name -> submodule (relative to ``package``) that defines it.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` to assign at the package's top level.

    Examples
    --------
    >>> _EXPORTS = {"rake": "weighting"}                           # doctest: +SKIP
    >>> __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)    # doctest: +SKIP
    """
    import sys

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
