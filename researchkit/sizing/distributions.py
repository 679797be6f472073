"""Distributions for market-sizing inputs.

Every uncertain input of a sizing model is one of these distributions. Each one can

* give quantiles through its inverse CDF (:meth:`Distribution.ppf`), used for tornado ranges,
  plausibility checks and for sampling by inversion;
* draw a seeded sample (:meth:`Distribution.sample`), by numpy's native generator where it is
  faster than inversion, otherwise by inversion of uniform draws (same distribution either way);
* report its mean, median, support and the low/high values the analyst stated.

The "90% interval" input that practitioners give most often ("between 12 and 40 orders a year,
I'm 90% sure") is :class:`Interval`: the stated low and high are taken as the 5th and 95th
percentiles of a named shape (normal, lognormal, logit-normal or uniform), so the choice of
shape is explicit rather than hidden (Hubbard, *How to Measure Anything*, 3rd ed., 2014, ch. 6).

Formulas
--------
* Triangular(a, c, b): ``F⁻¹(u) = a + sqrt(u (b−a)(c−a))`` for ``u < (c−a)/(b−a)``, else
  ``b − sqrt((1−u)(b−a)(b−c))``; mean ``(a+b+c)/3``.
* PERT(a, m, b; λ=4): ``a + (b−a)·Beta(α, β)`` with ``α = 1 + λ(m−a)/(b−a)``,
  ``β = 1 + λ(b−m)/(b−a)``; mean ``(a + λm + b)/(λ+2)`` (Malcolm et al. 1959; Vose, *Risk
  Analysis*, 3rd ed., 2008, §9.1.5).
* LogNormal(μ, σ): ``exp(μ + σ z)``; mean ``exp(μ + σ²/2)``; from a natural-scale mean ``M`` and
  sd ``S``: ``σ² = ln(1 + S²/M²)``, ``μ = ln M − σ²/2``.
* LogitNormal(μ, σ): ``1 / (1 + exp(−(μ + σ z)))``, support (0, 1); its mean has no closed form
  and is computed by 80-point Gauss–Hermite quadrature.
* Interval(low, high, level, shape): with ``z = Φ⁻¹((1+level)/2)``: normal ``mean = (low+high)/2``,
  ``sd = (high−low)/(2z)``; lognormal the same on ``ln``; logit-normal the same on
  ``logit``; uniform stretches ``[low, high]`` by ``(1−level)/(2·level)`` of its width on each side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from researchkit.errors import ParameterError

__all__ = [
    "DISTRIBUTIONS",
    "PERT",
    "Distribution",
    "Interval",
    "LogNormal",
    "LogitNormal",
    "Normal",
    "Point",
    "Triangular",
    "Uniform",
    "distribution_from_params",
    "distribution_problems",
]

#: Parameters each distribution accepts in a spec: (required, optional).
PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "point": (("value",), ()),
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "pert": (("low", "mode", "high"), ("lambda",)),
    "normal": (("mean", "sd"), ()),
    "lognormal": ((), ("mean", "sd", "mu", "sigma", "median")),
    "logitnormal": (("mu", "sigma"), ()),
    "interval": (("low", "high"), ("level", "shape")),
}
DISTRIBUTIONS = tuple(PARAMETERS)
INTERVAL_SHAPES = ("normal", "lognormal", "logitnormal", "uniform")
#: Every distribution parameter a spec may give, in the order specs list them.
PARAMETER_NAMES = ("value", "low", "mode", "high", "mean", "sd", "mu", "sigma", "median",
                   "level", "shape", "lambda")


def _ndtri(q: Any) -> Any:
    from scipy.special import ndtri

    return ndtri(q)


def _ndtr(x: Any) -> Any:
    from scipy.special import ndtr

    return ndtr(x)


def _check_q(q: Any) -> np.ndarray:
    arr = np.asarray(q, dtype=float)
    if np.any((arr < 0) | (arr > 1)) or np.any(np.isnan(arr)):
        raise ParameterError("quantile levels must lie in [0, 1]", parameter="q",
                             got=arr.tolist() if arr.size < 10 else "an array")
    return arr


def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def _raise_problems(kind: str, params: Mapping[str, Any], parameter: str) -> None:
    """Raise a ParameterError listing every problem :func:`distribution_problems` finds
    (``parameter`` names the problems that concern no single parameter)."""
    problems = distribution_problems(kind, params)
    if problems:
        text = "; ".join(f"{k}: {m}" if k else m for k, m in problems)
        raise ParameterError(f"invalid {kind} distribution: {text}",
                             parameter=problems[0][0] or parameter)


@dataclass(frozen=True)
class Distribution:
    """Base class: a univariate distribution with quantiles and seeded sampling."""

    kind: ClassVar[str] = ""

    # -- to implement ---------------------------------------------------------------------
    def _ppf(self, q: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # every subclass provides ``mean`` (a field or a property): the expected value

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest possible value (may be infinite)."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """The parameters as given (for specs, reports and ``repr``): the init fields."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    # -- shared -----------------------------------------------------------------------------
    def ppf(self, q: Any) -> np.ndarray:
        """Inverse CDF: the value below which a share ``q`` of the distribution lies."""
        return self._ppf(_check_q(q))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent draws (inverse-CDF sampling unless a faster exact sampler exists)."""
        return self._ppf(rng.random(n))

    @property
    def median(self) -> float:
        return float(self._ppf(np.array(0.5)))

    @property
    def is_point(self) -> bool:
        return False

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        """Central interval holding ``level`` of the probability."""
        if not 0 < level < 1:
            raise ParameterError("interval level must lie in (0, 1)", parameter="level",
                                 got=level)
        lo, hi = self._ppf(np.array([(1 - level) / 2, (1 + level) / 2]))
        return float(lo), float(hi)

    def stated_range(self) -> tuple[float, float]:
        """The low and high the analyst stated (bounds, or the interval's ends).

        Distributions without stated bounds (normal, lognormal) return their 5th and 95th
        percentiles.
        """
        return self.interval(0.9)

    def describe(self) -> str:
        """Short text such as ``PERT(40, 55, 80)``."""
        inner = ", ".join(_fmt(v) if isinstance(v, int | float) else str(v)
                          for v in self.params().values())
        return f"{type(self).__name__}({inner})"

    def to_dict(self) -> dict[str, Any]:
        """The spec form: ``{"dist": kind, **params}``."""
        return {"dist": self.kind, **self.params()}

    def __post_init__(self) -> None:
        _raise_problems(self.kind, self.params(), self.kind)


class _Bounded(Distribution):
    """A distribution on the bounds the analyst stated, ``[low, high]`` (no fields of its own:
    the subclasses declare ``low`` and ``high``)."""

    low: float
    high: float

    @property
    def support(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def stated_range(self) -> tuple[float, float]:
        return self.support


@dataclass(frozen=True)
class Point(Distribution):
    """A known value (no uncertainty)."""

    kind: ClassVar[str] = "point"
    value: float

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.full(q.shape, float(self.value))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(n, float(self.value))

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def support(self) -> tuple[float, float]:
        return float(self.value), float(self.value)

    @property
    def is_point(self) -> bool:
        return True

    def stated_range(self) -> tuple[float, float]:
        return float(self.value), float(self.value)


@dataclass(frozen=True)
class Uniform(_Bounded):
    """Every value between ``low`` and ``high`` equally likely."""

    kind: ClassVar[str] = "uniform"
    low: float
    high: float

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return self.low + q * (self.high - self.low)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class Triangular(_Bounded):
    """Triangular distribution on ``[low, high]`` peaking at ``mode``."""

    kind: ClassVar[str] = "triangular"
    low: float
    mode: float
    high: float

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        a, c, b = float(self.low), float(self.mode), float(self.high)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(q * (b - a) * (c - a))
        right = b - np.sqrt((1 - q) * (b - a) * (b - c))
        return np.where(q < fc, left, right)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3


@dataclass(frozen=True)
class PERT(_Bounded):
    """PERT (modified beta) distribution on ``[low, high]`` with most likely value ``mode``."""

    kind: ClassVar[str] = "pert"
    low: float
    mode: float
    high: float
    lamb: float = 4.0

    @property
    def alpha(self) -> float:
        return 1 + self.lamb * (self.mode - self.low) / (self.high - self.low)

    @property
    def beta(self) -> float:
        return 1 + self.lamb * (self.high - self.mode) / (self.high - self.low)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        from scipy.special import betaincinv

        return self.low + (self.high - self.low) * betaincinv(self.alpha, self.beta, q)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        x = rng.beta(self.alpha, self.beta, n)
        x *= self.high - self.low
        x += self.low
        return x

    @property
    def mean(self) -> float:
        return (self.low + self.lamb * self.mode + self.high) / (self.lamb + 2)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"low": self.low, "mode": self.mode, "high": self.high}
        if self.lamb != 4.0:
            out["lambda"] = self.lamb
        return out


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal distribution."""

    kind: ClassVar[str] = "normal"
    mean: float
    sd: float

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return self.mean + self.sd * _ndtri(q)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.sd, n)

    @property
    def support(self) -> tuple[float, float]:
        return -math.inf, math.inf


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal distribution: ``ln X ~ Normal(mu, sigma)``.

    Build it from natural-scale moments with :meth:`from_mean_sd` or from its median with
    :meth:`from_median`.
    """

    kind: ClassVar[str] = "lognormal"
    mu: float
    sigma: float

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> LogNormal:
        """The lognormal with natural-scale mean ``mean`` and standard deviation ``sd``."""
        _raise_problems("lognormal", {"mean": mean, "sd": sd}, "lognormal")
        s2 = math.log1p((sd / mean) ** 2)
        return cls(math.log(mean) - s2 / 2, math.sqrt(s2))

    @classmethod
    def from_median(cls, median: float, sigma: float) -> LogNormal:
        """The lognormal with the given median and log-scale standard deviation."""
        _raise_problems("lognormal", {"median": median, "sigma": sigma}, "lognormal")
        return cls(math.log(median), sigma)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * _ndtri(q))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def sd(self) -> float:
        return self.mean * math.sqrt(math.expm1(self.sigma**2))

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, math.inf


@dataclass(frozen=True)
class LogitNormal(Distribution):
    """Logit-normal distribution on (0, 1): ``logit X ~ Normal(mu, sigma)`` (for shares)."""

    kind: ClassVar[str] = "logitnormal"
    mu: float
    sigma: float

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return expit(self.mu + self.sigma * _ndtri(q))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        from scipy.special import expit

        z = rng.normal(self.mu, self.sigma, n)
        return expit(z, out=z)

    @property
    def mean(self) -> float:
        from scipy.special import expit

        x, w = np.polynomial.hermite_e.hermegauss(80)
        return float(np.sum(w * expit(self.mu + self.sigma * x)) / math.sqrt(2 * math.pi))

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, 1.0


@dataclass(frozen=True)
class Interval(Distribution):
    """A stated ``level`` interval (default 90%) from ``low`` to ``high``, with a named shape.

    ``low`` and ``high`` become the ``(1−level)/2`` and ``(1+level)/2`` quantiles of the
    ``shape`` (``"normal"``, ``"lognormal"``, ``"logitnormal"`` or ``"uniform"``).
    """

    kind: ClassVar[str] = "interval"
    low: float
    high: float
    level: float = 0.9
    shape: str = "lognormal"
    base: Distribution = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        z = float(_ndtri((1 + self.level) / 2))
        lo, hi = float(self.low), float(self.high)
        if self.shape == "normal":
            base: Distribution = Normal((lo + hi) / 2, (hi - lo) / (2 * z))
        elif self.shape == "lognormal":
            base = LogNormal((math.log(lo) + math.log(hi)) / 2,
                             (math.log(hi) - math.log(lo)) / (2 * z))
        elif self.shape == "logitnormal":
            a, b = math.log(lo / (1 - lo)), math.log(hi / (1 - hi))
            base = LogitNormal((a + b) / 2, (b - a) / (2 * z))
        else:
            pad = (hi - lo) * (1 - self.level) / (2 * self.level)
            base = Uniform(lo - pad, hi + pad)
        object.__setattr__(self, "base", base)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return self.base._ppf(q)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.base.sample(n, rng)

    @property
    def mean(self) -> float:
        return self.base.mean

    @property
    def support(self) -> tuple[float, float]:
        return self.base.support

    def stated_range(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def describe(self) -> str:
        return (f"{self.level:.0%} interval {_fmt(self.low)}–{_fmt(self.high)} "
                f"({self.shape})")


# -- validation and construction from spec parameters ------------------------------------------
def _num(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return math.nan
    return float(value)


def distribution_problems(kind: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with a distribution's parameters, as ``(parameter, message)`` pairs.

    ``parameter`` is ``""`` for problems of the whole distribution. An empty list means the
    parameters are valid. Used both by the sizing spec (which collects problems from every
    input) and by the distribution constructors (which raise on the first call).
    """
    if kind not in PARAMETERS:
        return [("dist", f"unknown distribution {kind!r}; expected one of {list(DISTRIBUTIONS)}")]
    required, optional = PARAMETERS[kind]
    given = {k for k, v in params.items() if v is not None}
    out: list[tuple[str, str]] = []
    for name in required:
        if name not in given:
            out.append((name, f"required for a {kind} distribution"))
    for name in sorted(given - set(required) - set(optional)):
        allowed = ", ".join(required + optional)
        out.append((name, f"not a parameter of a {kind} distribution (it takes {allowed})"))
    values = {name: _num(params, name) for name in given if name != "shape"}
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            out.append((name, f"must be a finite number, got {params.get(name)!r}"))
    if out:
        return out
    v = values
    if kind in ("uniform", "triangular", "pert", "interval"):
        lo, hi = v["low"], v["high"]
        if lo is not None and hi is not None and not lo < hi:
            out.append(("low", f"low ({_fmt(lo)}) must be below high ({_fmt(hi)})"))
        mode = v.get("mode")
        if mode is not None and lo is not None and hi is not None and lo < hi \
                and not lo <= mode <= hi:
            out.append(("mode", f"mode ({_fmt(mode)}) must lie between low ({_fmt(lo)}) "
                                f"and high ({_fmt(hi)})"))
    if kind == "pert" and v.get("lambda") is not None and not v["lambda"] > 0:
        out.append(("lambda", f"must be positive, got {_fmt(v['lambda'])}"))
    if kind in ("normal", "lognormal") and v.get("sd") is not None and not v["sd"] > 0:
        out.append(("sd", f"must be positive, got {_fmt(v['sd'])}"))
    if kind in ("lognormal", "logitnormal") and v.get("sigma") is not None \
            and not v["sigma"] > 0:
        out.append(("sigma", f"must be positive, got {_fmt(v['sigma'])}"))
    if kind == "lognormal":
        pairs = [("mean", "sd"), ("mu", "sigma"), ("median", "sigma")]
        chosen = [p for p in pairs if set(p) <= given]
        if len(chosen) != 1 or len(given) != 2:
            out.append(("", "give exactly one of: mean and sd (natural scale), mu and sigma "
                            f"(log scale), or median and sigma; got {sorted(given)}"))
        for name in ("mean", "median"):
            if v.get(name) is not None and not v[name] > 0:
                out.append((name, f"must be positive for a lognormal, got {_fmt(v[name])}"))
    if kind == "interval":
        level = v.get("level")
        if level is not None and not 0 < level < 1:
            out.append(("level", f"must lie strictly between 0 and 1, got {_fmt(level)}"))
        shape = params.get("shape") or "lognormal"
        if shape not in INTERVAL_SHAPES:
            out.append(("shape", f"unknown shape {shape!r}; expected one of "
                                 f"{list(INTERVAL_SHAPES)}"))
        lo, hi = v["low"], v["high"]
        if shape == "lognormal" and lo is not None and not lo > 0:
            out.append(("low", f"a lognormal interval needs low > 0, got {_fmt(lo)}"))
        if shape == "logitnormal" and lo is not None and hi is not None \
                and not (0 < lo and hi < 1):
            out.append(("low" if not lo > 0 else "high",
                        f"a logit-normal interval needs 0 < low < high < 1, got "
                        f"{_fmt(lo)}–{_fmt(hi)}"))
    return out


def distribution_from_params(kind: str, params: Mapping[str, Any]) -> Distribution:
    """Build a distribution from spec parameters (``{"low": .., "high": ..}`` etc.).

    Raises
    ------
    ParameterError
        If :func:`distribution_problems` finds anything wrong.
    """
    _raise_problems(kind, params, "dist")
    p = {k: v for k, v in params.items() if v is not None}
    if kind == "point":
        return Point(float(p["value"]))
    if kind == "uniform":
        return Uniform(float(p["low"]), float(p["high"]))
    if kind == "triangular":
        return Triangular(float(p["low"]), float(p["mode"]), float(p["high"]))
    if kind == "pert":
        return PERT(float(p["low"]), float(p["mode"]), float(p["high"]),
                    float(p.get("lambda", 4.0)))
    if kind == "normal":
        return Normal(float(p["mean"]), float(p["sd"]))
    if kind == "lognormal":
        if "mean" in p:
            return LogNormal.from_mean_sd(float(p["mean"]), float(p["sd"]))
        if "median" in p:
            return LogNormal.from_median(float(p["median"]), float(p["sigma"]))
        return LogNormal(float(p["mu"]), float(p["sigma"]))
    if kind == "logitnormal":
        return LogitNormal(float(p["mu"]), float(p["sigma"]))
    return Interval(float(p["low"]), float(p["high"]), float(p.get("level", 0.9)),
                    str(p.get("shape", "lognormal")))
