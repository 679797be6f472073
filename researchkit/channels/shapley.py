"""Shapley-value attribution, exact over all channel coalitions.

Channels are players of a cooperative game whose worth :math:`v(S)` for a coalition *S* of
channels is read from the unique-path table. The Shapley value (Shapley 1953) of channel *c* is

.. math:: \\phi_c = \\sum_{S \\subseteq N \\setminus \\{c\\}}
          \\frac{|S|!\\,(n-|S|-1)!}{n!}\\,\\bigl(v(S \\cup \\{c\\}) - v(S)\\bigr),

computed here exactly by enumerating all :math:`2^n` coalitions (``n`` ≤ 20 channels). Two
coalition worths are available:

* ``coalition="conversions"`` (default): :math:`v(S)` = conversions of the journeys whose
  channels all belong to *S* (Zhao, Mahboobi & Bagheri 2018, "Shapley value methods for
  attribution modeling in online advertising", arXiv:1804.05327). The values sum to total
  conversions (efficiency), so the model conserves conversions and value.
* ``coalition="conversion_rate"``: :math:`v(S)` = conversion rate of the journeys whose channels
  all belong to *S* (the "incremental conversion rate" reading of Dalessandro, Perlich, Hook,
  Stitelman, Raeder & Provost 2012, "Causally motivated attribution for online advertising",
  *ADKDD '12*). The values sum to the overall conversion rate; they are scaled by the number of
  journeys so they again sum to total conversions (and likewise for value). A channel whose
  journeys convert worse than the rest can get a negative value: that is reported, not hidden.

Coalition worths are sums over sub-coalitions, :math:`v(S) = \\sum_{T \\subseteq S} w(T)`,
obtained for all *S* at once with the subset-sum (zeta) transform in :math:`O(n 2^n)`.
"""

from __future__ import annotations

from math import factorial
from typing import Any, Literal

import numpy as np
import pandas as pd  # noqa: F401  (used in the docstring example)

from researchkit.channels._paths import credit_table, read_paths
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["MAX_SHAPLEY_CHANNELS", "shapley_attribution", "shapley_values"]

MAX_SHAPLEY_CHANNELS = 20


def _zeta(w: np.ndarray, n: int) -> np.ndarray:
    """v[S] = sum of w[T] over T ⊆ S, for every bitmask S."""
    v = w.astype(float).copy()
    for i in range(n):
        view = v.reshape(-1, 2, 2**i)
        view[:, 1, :] += view[:, 0, :]
    return v


def shapley_values(v: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values of an *n*-player game given as worths of all ``2**n`` bitmasks.

    Parameters
    ----------
    v : ndarray, shape (2**n,)
        ``v[S]`` is the worth of the coalition whose members are the set bits of ``S``.
    n : int
        Number of players.

    Examples
    --------
    Glove game: player 0 owns a left glove, players 1 and 2 a right glove each; a pair is
    worth 1. Shapley values are 2/3, 1/6, 1/6 (Shapley 1953).

    >>> v = np.array([0, 0, 0, 1, 0, 1, 0, 1], dtype=float)
    >>> shapley_values(v, 3).round(4).tolist()
    [0.6667, 0.1667, 0.1667]
    """
    v = np.asarray(v, dtype=float)
    if v.shape != (2**n,):
        raise ParameterError("coalition worths must have 2**n entries", parameter="v",
                             expected=f"{2**n} values", got=v.shape)
    masks = np.arange(2**n)
    size = np.zeros(2**n, dtype=np.int64)
    for i in range(n):
        size += (masks >> i) & 1
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) if s < n else 0.0
                       for s in range(n + 1)])
    phi = np.zeros(n)
    for c in range(n):
        without = masks[(masks & (1 << c)) == 0]
        phi[c] = np.sum(weight[size[without]] * (v[without | (1 << c)] - v[without]))
    return phi


def shapley_attribution(
    journeys: Any,
    *,
    coalition: Literal["conversions", "conversion_rate"] = "conversions",
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
) -> Result:
    """Attribute conversions and value to channels with exact Shapley values.

    Parameters
    ----------
    journeys : DataFrame or Journeys
        Path table (one row per journey or unique path; see
        :func:`~researchkit.channels.attribution_markov.markov_attribution`) or a
        :class:`~researchkit.channels.journeys.Journeys` object. Only the *set* of channels of a
        path matters (order and repeats do not).
    coalition : {"conversions", "conversion_rate"}
        Coalition worth (see the module docstring). ``conversion_rate`` needs null journeys.

    Returns
    -------
    Result
        ``estimate``: conversions per channel; ``table``: ``channel``, ``shapley`` (raw value
        for conversions), ``conversions``, ``value``, ``share``.

    References
    ----------
    Shapley, L. S. (1953). A value for n-person games. In *Contributions to the Theory of
    Games II*, 307-317. Dalessandro et al. (2012), *ADKDD '12*. Zhao et al. (2018),
    arXiv:1804.05327.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["a > b", "a", "b > c > b"],
    ...                       "conversions": [6, 3, 3], "nulls": [0, 1, 2]})
    >>> shapley_attribution(paths).estimate
    {'a': 6.0, 'b': 4.5, 'c': 1.5}
    """
    if coalition not in ("conversions", "conversion_rate"):
        raise ParameterError("unknown coalition worth", parameter="coalition",
                             expected="'conversions' or 'conversion_rate'", got=coalition)
    enc = read_paths(journeys, path=path, conversions=conversions, nulls=nulls, value=value,
                     sep=sep)
    K = len(enc.channels)
    if K > MAX_SHAPLEY_CHANNELS:
        raise ParameterError("too many channels for exact Shapley values", parameter="journeys",
                             expected=f"at most {MAX_SHAPLEY_CHANNELS} channels "
                             "(2**n coalitions)", got=K)
    total_conv = float(enc.conversions.sum())
    if total_conv <= 0:
        raise DataError("no conversions in the journeys: nothing to attribute",
                        column=conversions)
    bits = np.left_shift(np.int64(1), enc.codes)
    masks = np.bitwise_or.reduceat(bits, enc.offsets[:-1])
    size = 2**K
    w_conv = np.bincount(masks, weights=enc.conversions, minlength=size)
    w_val = np.bincount(masks, weights=enc.value, minlength=size)
    v_conv, v_val = _zeta(w_conv, K), _zeta(w_val, K)
    warnings: list[str] = []
    if coalition == "conversions":
        phi_c, phi_v = shapley_values(v_conv, K), shapley_values(v_val, K)
        conv_credit, value_credit = phi_c, phi_v
        raw = phi_c
    else:
        n_j = _zeta(np.bincount(masks, weights=enc.conversions + enc.nulls, minlength=size), K)
        if float(enc.nulls.sum()) == 0:
            raise DataError("coalition='conversion_rate' needs non-converting journeys "
                            "(a nulls column or rows with 0 conversions)", column=nulls)
        rate = np.divide(v_conv, n_j, out=np.zeros(size), where=n_j > 0)
        vrate = np.divide(v_val, n_j, out=np.zeros(size), where=n_j > 0)
        raw = shapley_values(rate, K)
        n_total = float(n_j[-1])
        conv_credit = raw * n_total
        value_credit = shapley_values(vrate, K) * n_total
        if (conv_credit < 0).any():
            neg = [c for c, x in zip(enc.channels, conv_credit, strict=True) if x < 0]
            warnings.append("negative Shapley credit (journeys with these channels convert "
                            f"less than the rest): {', '.join(neg)}")
    table = credit_table(enc.channels, conv_credit, value_credit, enc.has_value,
                         extra={"shapley": raw})
    return Result(
        name=f"Shapley attribution ({coalition.replace('_', ' ')})",
        estimate=dict(zip(enc.channels, conv_credit.tolist(), strict=True)),
        method=(
            f"Exact Shapley values over all 2^{K} coalitions of {K} channels; coalition worth = "
            + ("conversions of journeys whose channels all lie in the coalition (efficient: "
               "values sum to total conversions)" if coalition == "conversions" else
               "conversion rate of journeys whose channels all lie in the coalition, values "
               "scaled by the number of journeys to sum to total conversions")
            + "; value attributed the same way with conversion value as worth."
        ),
        n=round(float((enc.conversions + enc.nulls).sum())),
        table=table,
        details={"coalition": coalition, "n_channels": K, "total_conversions": total_conv,
                 "total_value": float(enc.value.sum()) if enc.has_value else None},
        warnings=warnings,
        reference="Shapley (1953); Dalessandro et al. (2012) ADKDD; Zhao et al. (2018) "
                  "arXiv:1804.05327",
    )
