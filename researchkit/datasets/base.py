"""Building blocks shared by every simulator and by the bundled example files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from researchkit.errors import DataError, ParameterError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DATA_DIR", "Simulated", "check_positive_int", "example_path", "list_examples",
           "make_rng"]

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class Simulated:
    """Simulated data and the ground truth it was generated from.

    Attributes
    ----------
    data : DataFrame or dict of DataFrames
        What an analyst would receive.
    truth : dict
        The population values used to generate ``data`` (effects, shares, matrices...).
    description : str
        One paragraph: what the data represent and how they were generated.
    """

    data: Any
    truth: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __iter__(self):  # allows ``data, truth = simulate(...)``
        yield self.data
        yield self.truth


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy ``Generator`` from a seed.

    Parameters
    ----------
    seed : int, numpy Generator or None
        An integer ≥ 0 gives a reproducible stream; a Generator is used as is; ``None`` gives
        fresh, non-reproducible randomness (avoid in notebooks and tests).
    """
    import numpy as np

    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError("invalid seed", parameter="seed",
                             expected="an integer >= 0 or a numpy Generator", got=seed)
    return np.random.default_rng(int(seed))


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Validate a count parameter such as ``n`` (an int ≥ ``minimum``)."""
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError("invalid count", parameter=name,
                             expected=f"an integer >= {minimum}", got=value)
    return int(value)


def list_examples() -> list[str]:
    """Names of the bundled example files."""
    if not DATA_DIR.exists():
        return []
    return sorted(p.name for p in DATA_DIR.iterdir() if p.is_file() and p.name[0] != ".")


def example_path(name: str) -> Path:
    """Path of a bundled example file (read it with :func:`researchkit.io.read_table`).

    Raises
    ------
    DataError
        If there is no such example, listing those that exist.
    """
    path = DATA_DIR / name
    if not path.is_file() or path.parent != DATA_DIR:
        raise DataError(f"no bundled example named {name!r}", file=DATA_DIR,
                        expected=f"one of {list_examples()}")
    return path
