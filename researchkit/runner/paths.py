"""Where the project's notebooks, templates and runs live."""

from __future__ import annotations

import os
from pathlib import Path

from researchkit.errors import ResearchkitError

__all__ = ["notebooks_dir", "project_root", "templates_dir"]

HOME_ENV = "RESEARCHKIT_HOME"


def project_root() -> Path:
    """The researchkit checkout: ``$RESEARCHKIT_HOME`` or the folder above the package.

    Raises
    ------
    ResearchkitError
        If that folder has no ``notebooks/`` (e.g. a non-editable install without a checkout).
    """
    env = os.environ.get(HOME_ENV)
    root = Path(env) if env else Path(__file__).resolve().parents[2]
    if not (root / "notebooks").is_dir():
        raise ResearchkitError(
            "cannot find the researchkit notebooks", file=root / "notebooks",
            hint=f"install researchkit from a checkout (pip install -e .) or set {HOME_ENV} "
            "to the checkout's folder",
        )
    return root


def notebooks_dir() -> Path:
    """The folder holding the shipped notebooks."""
    return project_root() / "notebooks"


def templates_dir() -> Path:
    """The folder holding study, codebook, guide and report templates."""
    return project_root() / "templates"
