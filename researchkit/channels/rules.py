"""Rule-based attribution: first touch, last touch, last non-direct, linear, position-based,
time decay.

Each rule gives every touch of a converting journey a weight :math:`w_{jt} \\ge 0` with
:math:`\\sum_t w_{jt} = 1`; channel *c* receives :math:`\\sum_j \\sum_{t: c_{jt}=c} w_{jt} C_j`
conversions and the same share of the journey's value, so every rule conserves conversions and
value. The rules (Google Analytics' attribution-model definitions; Kannan, Reinartz & Verhoef
2016, "The path to purchase and attribution modeling", *IJRM* 33(3), review them):

* **first touch**: :math:`w = 1` for the first touch;
* **last touch**: :math:`w = 1` for the last touch;
* **last non-direct**: :math:`w = 1` for the last touch whose channel is not direct (direct
  visits only get credit when the whole journey is direct);
* **linear**: :math:`w = 1/n` for each of the *n* touches, optionally ignoring direct visits and
  internal referrals (``ignore``; a journey made only of ignored touches is split over all of
  them, so nothing is lost);
* **position-based** (U-shaped): ``first`` (default 40%) to the first touch, ``last`` (40%) to
  the last, the rest shared equally by the touches in between; a two-touch journey splits
  ``first : last``, a one-touch journey gives it everything;
* **time decay**: :math:`w \\propto 2^{-\\Delta/h}` with :math:`\\Delta` the time from the touch
  to the conversion and *h* the half-life (default 7 days, as in Google Analytics).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from researchkit.channels._paths import credit_table, read_paths
from researchkit.errors import ParameterError
from researchkit.results import Result

__all__ = ["RULES", "rule_based_attribution"]

RULES = ("first_touch", "last_touch", "last_non_direct", "linear", "position_based",
         "time_decay")

Rule = Literal["first_touch", "last_touch", "last_non_direct", "linear", "position_based",
               "time_decay"]


def _long(journeys: Any, *, path: str, conversions: str, value: str | None, sep: str,
          need_time: bool) -> dict[str, Any]:
    """Touch-level arrays of the converting journeys."""
    touches = getattr(journeys, "touches", None)
    if isinstance(touches, pd.DataFrame) and hasattr(journeys, "journeys"):
        jt = journeys.journeys
        mask = touches["converted"].to_numpy()
        fast = _touch_codes(touches["channel"], touches["journey_id"], jt["journey_id"], mask)
        if fast is None:  # unusual tables: the plain pandas version
            conv_j = jt.set_index("journey_id")
            t = touches[mask]
            channels = sorted(t["channel"].unique())
            code = pd.Categorical(t["channel"], categories=channels).codes.astype(np.int64)
            jid, jcodes = np.unique(t["journey_id"].to_numpy(), return_inverse=True)
            return {
                "channels": channels, "code": code, "journey": jcodes.astype(np.int64),
                "position": t["position"].to_numpy(), "n": t["n_touches"].to_numpy(),
                "days": t["days_before_end"].to_numpy(dtype=float),
                "conv": conv_j.loc[jid, "conversions"].to_numpy(dtype=float),
                "value": conv_j.loc[jid, "value"].to_numpy(dtype=float),
                "has_value": bool("value" in jt.columns),
            }
        channels, code, jcodes, rows = fast
        return {
            "channels": channels, "code": code, "journey": jcodes.astype(np.int64),
            "position": touches["position"].to_numpy()[mask],
            "n": touches["n_touches"].to_numpy()[mask],
            "days": touches["days_before_end"].to_numpy(dtype=float)[mask],
            "conv": jt["conversions"].to_numpy(dtype=float)[rows],
            "value": jt["value"].to_numpy(dtype=float)[rows],
            "has_value": bool("value" in jt.columns),
        }
    if need_time:
        raise ParameterError("time decay needs touch times: pass a Journeys object from "
                             "build_journeys, not a path table", parameter="journeys")
    enc = read_paths(journeys, path=path, conversions=conversions, nulls=None, value=value,
                     sep=sep)
    keep = enc.conversions > 0
    pidx = enc.path_index()
    mask = keep[pidx]
    sel = np.flatnonzero(keep)
    remap = np.full(enc.n_paths, -1)
    remap[sel] = np.arange(len(sel))
    return {
        "channels": enc.channels, "code": enc.codes[mask], "journey": remap[pidx[mask]],
        "position": enc.position()[mask], "n": enc.lengths[pidx[mask]],
        "days": None, "conv": enc.conversions[sel], "value": enc.value[sel],
        "has_value": enc.has_value,
    }


def _touch_codes(channel: pd.Series, journey: pd.Series, journey_ids: pd.Series,
                 mask: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None:
    """Channel codes (channels sorted), journey codes (journeys sorted) and each journey's row
    in the journey table, for the touches in ``mask``; ``None`` for unusual inputs."""
    from researchkit.channels._arrow import STR, factorize_text, int_codes, lookup, text_array

    ids = journey_ids.to_numpy()
    if channel.dtype != STR or ids.dtype.kind not in "iu" or \
            journey.to_numpy().dtype.kind not in "iu":
        return None
    arr = text_array(channel).filter(pa.array(mask))
    if arr.null_count:
        return None
    raw, found = factorize_text(arr)
    names = found.to_pylist()
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    jid, jcodes = int_codes(journey.to_numpy().astype(np.int64)[mask])
    ids = ids.astype(np.int64)
    if len(int_codes(ids)[0]) != len(ids):
        return None
    rows = lookup(ids, jid)
    if (rows < 0).any():
        return None
    return [names[k] for k in order], rank[raw], jcodes, rows


def _group_sum(x: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(groups, weights=x, minlength=n)


def rule_based_attribution(
    journeys: Any,
    model: Rule = "linear",
    *,
    direct: Sequence[str] = ("direct",),
    ignore: Sequence[str] = (),
    first: float = 0.4,
    last: float = 0.4,
    half_life: str | pd.Timedelta | float = "7D",
    path: str = "path",
    conversions: str = "conversions",
    value: str | None = "value",
    sep: str = ">",
) -> Result:
    """Attribute conversions and value to channels with a rule.

    Parameters
    ----------
    journeys : Journeys or DataFrame
        A :class:`~researchkit.channels.journeys.Journeys` object, or a path table (one row
        per journey or unique path with ``path`` and ``conversions``, optional ``value``;
        not for ``time_decay``, which needs touch times).
    model : str
        One of :data:`RULES`.
    direct : sequence of str
        Channels that count as direct visits (``last_non_direct``).
    ignore : sequence of str
        Channels the ``linear`` rule skips (e.g. ``["direct", "internal"]``).
    first, last : float
        Shares of the first and last touch in ``position_based`` (``first + last <= 1``).
    half_life : str, Timedelta or float
        Half-life of ``time_decay`` (a duration, or a number of days).
    path, conversions, value, sep
        Column names and separator of a path table.

    Returns
    -------
    Result
        ``estimate``: conversions per channel; ``table``: ``channel``, ``conversions``,
        ``value``, ``share``.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["search > email > direct", "email"],
    ...                       "conversions": [1, 1], "value": [90.0, 30.0]})
    >>> rule_based_attribution(paths, "last_non_direct").estimate
    {'direct': 0.0, 'email': 2.0, 'search': 0.0}
    """
    if model not in RULES:
        raise ParameterError("unknown attribution rule", parameter="model",
                             expected=f"one of {list(RULES)}", got=model)
    for name, share in (("first", first), ("last", last)):
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ParameterError("position share must be between 0 and 1", parameter=name,
                                 got=share)
    if model == "position_based" and first + last > 1 + 1e-12:
        raise ParameterError("first + last must not exceed 1", parameter="first/last",
                             got=first + last)
    hl_days = None
    if model == "time_decay":
        try:
            hl_days = (float(half_life) if isinstance(half_life, int | float)
                       else pd.Timedelta(half_life) / pd.Timedelta(days=1))
        except (TypeError, ValueError):
            raise ParameterError("invalid half-life", parameter="half_life",
                                 expected="a duration such as '7D' or a number of days",
                                 got=half_life) from None
        if not hl_days > 0:
            raise ParameterError("half-life must be positive", parameter="half_life",
                                 got=half_life)
    d = _long(journeys, path=path, conversions=conversions, value=value, sep=sep,
              need_time=model == "time_decay")
    channels, code, jour = d["channels"], d["code"], d["journey"]
    pos, n = d["position"], d["n"]
    J = len(d["conv"])
    if model == "first_touch":
        w = (pos == 0).astype(float)
        desc = "first touch gets the whole conversion"
    elif model == "last_touch":
        w = (pos == n - 1).astype(float)
        desc = "last touch gets the whole conversion"
    elif model == "last_non_direct":
        is_direct = np.isin(np.asarray(channels, dtype=object), list(direct))[code]
        key = np.where(~is_direct, pos, -1)
        best = np.full(J, -1)
        np.maximum.at(best, jour, key)
        target = np.where(best[jour] >= 0, best[jour], n - 1)
        w = (pos == target).astype(float)
        desc = (f"last touch that is not direct ({', '.join(direct)}) gets the conversion; "
                "all-direct journeys credit their last touch")
    elif model == "linear":
        skip = np.isin(np.asarray(channels, dtype=object), list(ignore))[code]
        eligible = ~skip
        n_elig = _group_sum(eligible.astype(float), jour, J)
        none = n_elig[jour] == 0
        eligible = eligible | none
        n_elig = _group_sum(eligible.astype(float), jour, J)
        w = eligible / n_elig[jour]
        desc = "equal split over the touches" + (
            f", ignoring {', '.join(ignore)} (unless a journey has nothing else)"
            if len(ignore) else "")
    elif model == "position_based":
        mid = 1.0 - first - last
        w = np.where(n == 1, 1.0, 0.0)
        two = n == 2
        w = np.where(two & (pos == 0), first / (first + last) if first + last else 0.5, w)
        w = np.where(two & (pos == 1), last / (first + last) if first + last else 0.5, w)
        many = n >= 3
        w = np.where(many & (pos == 0), first, w)
        w = np.where(many & (pos == n - 1), last, w)
        w = np.where(many & (pos > 0) & (pos < n - 1), mid / np.maximum(n - 2, 1), w)
        desc = (f"{first:.0%} to the first touch, {last:.0%} to the last, the rest split "
                "equally over the touches in between (two touches: first:last, one: all)")
    else:
        raw = np.exp2(-d["days"] / hl_days)
        w = raw / _group_sum(raw, jour, J)[jour]
        desc = f"weights halve every {hl_days:g} days before the conversion"
    conv_credit = _group_sum(w * d["conv"][jour], code, len(channels))
    value_credit = _group_sum(w * d["value"][jour], code, len(channels))
    table = credit_table(channels, conv_credit, value_credit, d["has_value"])
    return Result(
        name=f"Rule-based attribution: {model.replace('_', ' ')}",
        estimate=dict(zip(channels, conv_credit.tolist(), strict=True)),
        method=f"Rule-based attribution ({model}): {desc}; weights sum to 1 per converting "
               "journey, so conversions and value are conserved.",
        n=J,
        table=table,
        details={"model": model, "total_conversions": float(d["conv"].sum()),
                 "total_value": float(d["value"].sum()) if d["has_value"] else None},
        reference="Kannan, Reinartz & Verhoef (2016), IJRM 33(3) 449-456",
    )
