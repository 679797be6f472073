"""The fitted marketing-mix model and its result object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from researchkit.channels.mmm._core import Transform
from researchkit.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FittedMMM", "MMMResult", "channel_metrics"]


def channel_metrics(transform: Transform, X: np.ndarray, theta: np.ndarray, beta: np.ndarray,
                    step: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total contribution, ROI and marginal ROI of every channel over the rows of ``X``.

    ROI :math:`= \\sum_t \\beta_c h_c(x_c)_t / \\sum_t x_{ct}`; marginal ROI
    :math:`= [\\sum_t \\beta_c h_c((1+\\epsilon)x_c)_t - \\sum_t \\beta_c h_c(x_c)_t]
    / (\\epsilon \\sum_t x_{ct})` with :math:`\\epsilon` = ``step``.
    """
    H = transform.columns(X, theta)
    H1 = transform.columns(X * (1.0 + step), theta)
    total = (H * beta).sum(axis=0)
    total1 = (H1 * beta).sum(axis=0)
    spend = X.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        roi = np.where(spend > 0, total / spend, np.nan)
        mroi = np.where(spend > 0, (total1 - total) / (step * spend), np.nan)
    return total, roi, mroi


@dataclass
class FittedMMM:
    """Everything needed to evaluate the fitted model on new spend (point estimate + draws)."""

    channels: list[str]
    dates: pd.Series
    y: np.ndarray
    X: np.ndarray
    base: pd.DataFrame
    transform: Transform
    theta: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    theta_draws: np.ndarray
    beta_draws: np.ndarray
    gamma_draws: np.ndarray
    ci_level: float
    mroi_step: float
    y_name: str
    controls: list[str] = field(default_factory=list)

    def control_names(self) -> list[str]:
        return list(self.controls)

    def _generated(self, prefixes: tuple[str, ...]) -> list[int]:
        cols = list(self.base.columns)
        return [i for i, c in enumerate(cols)
                if c not in self.controls and c.startswith(prefixes)]

    def media(self, X: np.ndarray | None = None, draw: int | None = None) -> np.ndarray:
        """Channel contributions (T x C) for spend ``X`` (default: the data)."""
        X = self.X if X is None else X
        theta = self.theta if draw is None else self.theta_draws[draw]
        beta = self.beta if draw is None else self.beta_draws[draw]
        return self.transform.columns(X, theta) * beta

    def fitted(self) -> np.ndarray:
        return self.base.to_numpy() @ self.gamma + self.media().sum(axis=1)

    def decomposition(self) -> pd.DataFrame:
        """Per period: actual, fitted, base components and channel contributions."""
        F = self.base.to_numpy()
        parts = F * self.gamma
        cols = list(self.base.columns)
        out = pd.DataFrame({"date": self.dates, "actual": self.y})
        out["intercept"] = parts[:, cols.index("intercept")]
        trend = self._generated(("trend",))
        season = self._generated(("sin", "cos"))
        if trend:
            out["trend"] = parts[:, trend].sum(axis=1)
        if season:
            out["seasonality"] = parts[:, season].sum(axis=1)
        for name in self.control_names():
            out[name] = parts[:, cols.index(name)]
        base_cols = [c for c in out.columns if c not in ("date", "actual")]
        out["base"] = out[base_cols].sum(axis=1)
        media = self.media()
        for j, c in enumerate(self.channels):
            out[c] = media[:, j]
        out["fitted"] = out["base"] + media.sum(axis=1)
        out["residual"] = out["actual"] - out["fitted"]
        return out


@dataclass(eq=False)
class MMMResult(Result):
    """Result of :func:`~researchkit.channels.mmm.fit_mmm`.

    Attributes (besides those of :class:`~researchkit.results.Result`)
    ---------------------------------------------------------------------
    decomposition : DataFrame
        Per period: actual, fitted, residual, base components (intercept, trend, seasonality,
        each control), ``base`` (their sum) and one column per channel. ``base`` plus the
        channel columns equals ``fitted`` exactly.
    parameters : DataFrame
        Per channel: media coefficient and transformation parameters.
    draws : DataFrame or None
        Bootstrap replicates of ROI, marginal ROI and contribution per channel.
    model : FittedMMM
        The fitted model (used by :meth:`response_curves` and :meth:`optimize_budget`).
    """

    decomposition: pd.DataFrame | None = None
    parameters: pd.DataFrame | None = None
    draws: pd.DataFrame | None = None
    model: FittedMMM | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field except the fitted model object."""
        from dataclasses import fields

        from researchkit.run_context import to_jsonable

        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "model" or (value is None and f.name in ("table", "draws")):
                continue
            out[f.name] = value
        return to_jsonable(out)

    def roi(self) -> pd.DataFrame:
        """ROI and marginal ROI per channel with intervals (the result table)."""
        assert self.table is not None
        return self.table.copy()

    def response_curves(self, **kwargs: Any) -> pd.DataFrame:
        """See :func:`researchkit.channels.mmm.budget.response_curves`."""
        from researchkit.channels.mmm.budget import response_curves

        return response_curves(self, **kwargs)

    def optimize_budget(self, **kwargs: Any) -> Result:
        """See :func:`researchkit.channels.mmm.budget.optimize_budget`."""
        from researchkit.channels.mmm.budget import optimize_budget

        return optimize_budget(self, **kwargs)

    def plot_decomposition(self, **kwargs: Any) -> Figure:
        """See :func:`researchkit.channels.mmm.plots.plot_decomposition`."""
        from researchkit.channels.mmm.plots import plot_decomposition

        return plot_decomposition(self, **kwargs)


def _channel_list(model: FittedMMM, channels: Sequence[str] | None) -> list[int]:
    from researchkit.errors import ParameterError

    if channels is None:
        return list(range(len(model.channels)))
    out = []
    for c in channels:
        if c not in model.channels:
            raise ParameterError("unknown channel", parameter="channels",
                                 expected=f"one of {model.channels}", got=c)
        out.append(model.channels.index(c))
    return out

