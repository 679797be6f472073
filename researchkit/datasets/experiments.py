"""Simulated A/B tests with known effects: a user table, an event log, a large Parquet file.

The generative model (per user ``u`` in arm ``a``, device ``d`` and visitor type ``v``):

* propensity ``r_u = exp(σ_r z_u − σ_r²/2)`` (``σ_r = 1.4``) and spend scale
  ``s_u = exp(0.6 w_u − 0.18)``, with independent ``z_u, w_u ~ N(0, 1)``: both have mean 1;
* conversion ``converted ~ Bernoulli(min(1, c_{a,d,v} r_u))`` with
  ``c_{a,d,v} = p_{d,v} (1 + lift_a m_d)``; its mean
  ``E[min(1, c r)] = c Φ((ln(1/c) − σ_r²/2)/σ_r) + 1 − Φ((ln(1/c) + σ_r²/2)/σ_r)``;
* orders ``= converted × (1 + Poisson(extra_orders))``;
* revenue ``= aov_a × s_u × Σ_orders ε``, ``ε ~ LogNormal(−0.08, 0.4)`` (mean 1), in cents;
* sessions ``= 1 + Poisson(sessions_a × r_u)``;
* a pre-period four times as long, with control conditions, for the same users
  (``pre_revenue``, ``pre_sessions``, ``pre_converted``): the CUPED covariates, correlated
  with the outcomes through ``r_u`` and ``s_u``.

Because the latent variables are independent with known distributions, the population
values are closed-form and returned as ``truth``: conversion rate, revenue per user, sessions
per user and revenue per session in every arm, their relative lifts, and per-device values.

An optional **SRM fault** drops a share of the first treatment arm's *mobile* users who did not
convert (a redirect that crashes on some phones before the purchase): the arm sizes no longer
match the split and the naive treatment effect is biased upwards, as in real SRM incidents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError

__all__ = ["ab_test_events", "ab_test_users", "write_ab_test_parquet"]

DEVICES = ("desktop", "mobile", "tablet")
DEVICE_SHARES = (0.45, 0.45, 0.10)
DEVICE_CONVERSION = (0.060, 0.040, 0.050)
VISITOR_TYPES = ("new", "returning")
VISITOR_SHARES = (0.6, 0.4)
VISITOR_MULTIPLIER = (0.8, 1.3)
EPS_SIGMA = 0.4
SPEND_SIGMA = 0.6
PROPENSITY_SIGMA = 1.4
PRE_PERIODS = 4


def _per_arm(value: float | Sequence[float], n_treat: int, name: str) -> list[float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [float(value)] * n_treat
    vals = list(value)
    if len(vals) != n_treat or not all(isinstance(v, int | float) for v in vals):
        raise ParameterError("one value per treatment arm", parameter=name,
                             expected=f"a number or {n_treat} numbers", got=value)
    return [float(v) for v in vals]


def _check_lift(v: float, name: str) -> None:
    if not -1 < v < 10:
        raise ParameterError("relative lift out of range", parameter=name,
                             expected="a number in (-1, 10)", got=v)


class _Design:
    """Validated parameters of the simulation and its closed-form truth."""

    def __init__(self, arms: Sequence[str], split: Sequence[float] | None,
                 conversion_lift: Any, aov_lift: Any, sessions_lift: Any,
                 device_lift: Mapping[str, float] | None, base_conversion: float,
                 aov: float, sessions: float, extra_orders: float) -> None:
        if isinstance(arms, str) or len(arms) < 2 or len(set(arms)) != len(arms) or \
                not all(isinstance(a, str) and a for a in arms):
            raise ParameterError("need at least two distinct arm names", parameter="arms",
                                 got=arms)
        self.arms = tuple(arms)
        k = len(arms)
        if split is None:
            split = [1.0 / k] * k
        if isinstance(split, str) or len(split) != k or \
                any(not isinstance(s, int | float) or s <= 0 for s in split):
            raise ParameterError("one positive share per arm", parameter="split",
                                 expected=f"{k} positive numbers", got=split)
        total = float(sum(split))
        self.split = [float(s) / total for s in split]
        self.conv_lift = [0.0, *_per_arm(conversion_lift, k - 1, "conversion_lift")]
        self.aov_lift = [0.0, *_per_arm(aov_lift, k - 1, "aov_lift")]
        self.sess_lift = [0.0, *_per_arm(sessions_lift, k - 1, "sessions_lift")]
        for name, vals in (("conversion_lift", self.conv_lift), ("aov_lift", self.aov_lift),
                           ("sessions_lift", self.sess_lift)):
            for v in vals:
                _check_lift(v, name)
        dl = {"desktop": 1.0, "mobile": 1.0, "tablet": 1.0} if device_lift is None \
            else dict(device_lift)
        if set(dl) != set(DEVICES) or any(not isinstance(v, int | float) for v in dl.values()):
            raise ParameterError("a lift multiplier for each device", parameter="device_lift",
                                 expected=f"keys {list(DEVICES)}", got=device_lift)
        self.device_lift = [float(dl[d]) for d in DEVICES]
        for name, value, hi in (("base_conversion", base_conversion, 0.2), ("aov", aov, 1e6),
                                ("sessions", sessions, 100.0),
                                ("extra_orders", extra_orders, 10.0)):
            if not isinstance(value, int | float) or isinstance(value, bool) or \
                    not 0 <= value <= hi or (name != "extra_orders" and value == 0):
                raise ParameterError("out of range", parameter=name,
                                     expected=f"a number in (0, {hi}]", got=value)
        self.scale = base_conversion / 0.05
        self.aov, self.sessions, self.extra = float(aov), float(sessions), float(extra_orders)
        # conversion probability per (arm, device, visitor) before the propensity factor
        self.p = [[[DEVICE_CONVERSION[d] * self.scale * VISITOR_MULTIPLIER[v] *
                    (1 + self.conv_lift[a] * self.device_lift[d])
                    for v in range(len(VISITOR_TYPES))] for d in range(len(DEVICES))]
                  for a in range(k)]
        top = max(p for arm in self.p for dev in arm for p in dev)
        if top >= 0.5:
            raise ParameterError("conversion probabilities too high",
                                 parameter="base_conversion",
                                 expected="a smaller base rate or smaller lifts", got=top)

    @staticmethod
    def expected_conversion(c: float) -> float:
        """``E[min(1, c r)]`` for the lognormal propensity ``r`` (mean 1)."""
        from scipy.special import ndtr

        sig = PROPENSITY_SIGMA
        t = math.log(1 / c)
        return float(c * ndtr((t - sig**2 / 2) / sig) + 1 - ndtr((t + sig**2 / 2) / sig))

    def truth(self) -> dict[str, Any]:
        k = len(self.arms)
        ec = self.expected_conversion
        conv = {}
        by_device: dict[str, dict[str, dict[str, float]]] = {}
        for a, arm in enumerate(self.arms):
            conv[arm] = sum(DEVICE_SHARES[d] * VISITOR_SHARES[v] * ec(self.p[a][d][v])
                            for d in range(len(DEVICES)) for v in range(len(VISITOR_TYPES)))
            for d, dev in enumerate(DEVICES):
                c = sum(VISITOR_SHARES[v] * ec(self.p[a][d][v])
                        for v in range(len(VISITOR_TYPES)))
                by_device.setdefault(dev, {}).setdefault("conversion", {})[arm] = c
                by_device[dev].setdefault("revenue", {})[arm] = \
                    c * (1 + self.extra) * self.aov * (1 + self.aov_lift[a])
        revenue = {arm: conv[arm] * (1 + self.extra) * self.aov * (1 + self.aov_lift[a])
                   for a, arm in enumerate(self.arms)}
        sessions = {arm: 1 + self.sessions * (1 + self.sess_lift[a])
                    for a, arm in enumerate(self.arms)}
        rps = {arm: revenue[arm] / sessions[arm] for arm in self.arms}
        c0 = self.arms[0]

        def lift(d: dict[str, float]) -> dict[str, float]:
            return {arm: d[arm] / d[c0] - 1 for arm in self.arms[1:]}

        return {
            "arms": list(self.arms), "control": c0,
            "split": dict(zip(self.arms, self.split, strict=True)),
            "conversion": conv, "revenue": revenue, "sessions": sessions,
            "revenue_per_session": rps,
            "conversion_lift": lift(conv), "revenue_lift": lift(revenue),
            "sessions_lift": lift(sessions), "revenue_per_session_lift": lift(rps),
            "conversion_difference": {arm: conv[arm] - conv[c0] for arm in self.arms[1:]},
            "revenue_difference": {arm: revenue[arm] - revenue[c0] for arm in self.arms[1:]},
            "by_device": by_device, "n_arms": k,
        }


def _simulate(design: _Design, n: int, rng: Any, *, days: int, srm_fault: float,
              with_segments: bool = True, with_pre: bool = True, start_id: int = 0
              ) -> dict[str, Any]:
    """Column arrays of ``n`` simulated users (before any SRM fault)."""
    import numpy as np

    k = len(design.arms)
    arm = rng.choice(k, size=n, p=design.split).astype(np.int8)
    device = rng.choice(len(DEVICES), size=n, p=DEVICE_SHARES).astype(np.int8)
    visitor = rng.choice(len(VISITOR_TYPES), size=n, p=VISITOR_SHARES).astype(np.int8)
    r = np.exp(PROPENSITY_SIGMA * rng.standard_normal(n) - PROPENSITY_SIGMA**2 / 2)
    s = np.exp(SPEND_SIGMA * rng.standard_normal(n) - SPEND_SIGMA**2 / 2)
    p_table = np.asarray(design.p)                        # (arm, device, visitor)
    p = p_table[arm, device, visitor]
    aov = design.aov * (1 + np.asarray(design.aov_lift))[arm]
    mu_sess = design.sessions * (1 + np.asarray(design.sess_lift))[arm]

    def outcome(p_arm: np.ndarray, aov_arm: Any, mu: Any, periods: int = 1
                ) -> tuple[np.ndarray, ...]:
        conv = np.zeros(n, dtype=np.int64)
        orders = np.zeros(n, dtype=np.int64)
        for _ in range(periods):
            c = rng.random(n) < p_arm * r  # min(1, c r) implicitly: uniform < 1 always
            conv += c
            orders += c * (1 + rng.poisson(design.extra, n))
        # Σ of `orders` lognormal(−σ²/2, σ) amounts: simulate the total of up to m draws
        eps_total = np.zeros(n)
        max_orders = int(orders.max()) if n else 0
        for j in range(1, max_orders + 1):
            has = orders >= j
            eps_total[has] += rng.lognormal(-EPS_SIGMA**2 / 2, EPS_SIGMA, int(has.sum()))
        revenue = np.round(aov_arm * s * eps_total, 2)
        sessions = periods + rng.poisson(periods * mu * r)
        return np.minimum(conv, 1).astype(np.int8), orders.astype(np.int16), revenue, \
            sessions.astype(np.int32)

    conv, orders, revenue, sessions = outcome(p, aov, mu_sess)
    cols: dict[str, Any] = {
        "user_id": np.arange(start_id, start_id + n, dtype=np.int64),
        "arm": arm, "device": device, "visitor_type": visitor,
        "first_day": rng.integers(1, days + 1, n).astype(np.int16),
        "sessions": sessions, "converted": conv, "orders": orders, "revenue": revenue,
    }
    if with_pre:
        p_pre = p_table[0, device, visitor]
        pc, _, prev, psess = outcome(p_pre, design.aov, design.sessions, PRE_PERIODS)
        cols.update(pre_converted=pc, pre_sessions=psess, pre_revenue=prev)
    if not with_segments:
        cols.pop("device")
        cols.pop("visitor_type")
    keep = None
    if srm_fault > 0:
        lost = (arm == 1) & (device == DEVICES.index("mobile")) & (conv == 0) & \
            (rng.random(n) < srm_fault)
        keep = ~lost
    cols["_keep"] = keep
    return cols


def ab_test_users(
    n: int = 20_000,
    *,
    seed: int = 1,
    arms: Sequence[str] = ("control", "treatment"),
    split: Sequence[float] | None = None,
    base_conversion: float = 0.05,
    conversion_lift: float | Sequence[float] = 0.10,
    aov: float = 40.0,
    aov_lift: float | Sequence[float] = 0.0,
    sessions: float = 2.0,
    sessions_lift: float | Sequence[float] = 0.0,
    extra_orders: float = 0.3,
    device_lift: Mapping[str, float] | None = None,
    srm_fault: float = 0.0,
    days: int = 14,
) -> Simulated:
    """A simulated A/B test: one row per user with known effects.

    Parameters
    ----------
    n : int
        Users enrolled (before any SRM fault).
    seed : int
        Random seed.
    arms : sequence of str
        Arm names; the first is the control.
    split : sequence of float, optional
        Planned share of each arm (default equal).
    base_conversion : float
        Average control conversion rate (device and visitor mix included), e.g. 0.05.
    conversion_lift, aov_lift, sessions_lift : float or sequence
        Relative lift of each treatment arm on conversion, average order value and sessions
        beyond the first (one number for all treatment arms, or one per arm).
    aov : float
        Average order value in the control arm.
    sessions : float
        Mean number of sessions beyond the first (control).
    extra_orders : float
        Mean number of extra orders of a converting user.
    device_lift : dict, optional
        Multiplier of the conversion lift per device (``{"desktop": 1, "mobile": 2,
        "tablet": 0}`` puts the effect on mobile); default 1 everywhere.
    srm_fault : float
        Share of the first treatment arm's non-converting mobile users that are lost
        (0 = no fault). Creates a sample-ratio mismatch and an upward bias.
    days : int
        Length of the experiment; ``first_day`` is the day each user enrolled (for sequential
        looks).

    Returns
    -------
    Simulated
        ``data``: DataFrame with ``user_id, arm, device, visitor_type, first_day, sessions,
        converted, orders, revenue, pre_converted, pre_sessions, pre_revenue`` (revenue in
        currency units with 2 decimals; ``arm``, ``device`` and ``visitor_type`` are
        categorical). ``truth``: population conversion, revenue per user, sessions and revenue
        per session in each arm, the lifts and differences, per-device values, the split and
        the SRM fault.

    Examples
    --------
    >>> data, truth = ab_test_users(n=1000, seed=7)
    >>> round(truth["conversion_lift"]["treatment"], 3)
    0.1
    """
    import pandas as pd

    n = check_positive_int(n, "n", minimum=10)
    days = check_positive_int(days, "days")
    if not isinstance(srm_fault, int | float) or not 0 <= srm_fault < 1:
        raise ParameterError("out of range", parameter="srm_fault",
                             expected="a share in [0, 1)", got=srm_fault)
    design = _Design(arms, split, conversion_lift, aov_lift, sessions_lift, device_lift,
                     base_conversion, aov, sessions, extra_orders)
    rng = make_rng(seed)
    cols = _simulate(design, n, rng, days=days, srm_fault=float(srm_fault))
    keep = cols.pop("_keep")
    df = pd.DataFrame(cols)
    df["arm"] = pd.Categorical.from_codes(df["arm"], categories=list(design.arms))
    df["device"] = pd.Categorical.from_codes(df["device"], categories=list(DEVICES))
    df["visitor_type"] = pd.Categorical.from_codes(df["visitor_type"],
                                                   categories=list(VISITOR_TYPES))
    if keep is not None:
        df = df[keep].reset_index(drop=True)
    truth = design.truth()
    truth.update(srm_fault=float(srm_fault), n_enrolled=n, n_observed=len(df), days=days)
    desc = (f"{n:,} simulated users randomised to {list(design.arms)} "
            f"(split {[round(s, 4) for s in design.split]}) over {days} days; conversion, "
            f"orders, revenue (2 decimals) and sessions per user, with pre-period covariates "
            f"for CUPED; device and visitor-type segments."
            + (f" SRM fault: {srm_fault:.1%} of the non-converting mobile users of "
               f"{design.arms[1]!r} are lost." if srm_fault else ""))
    return Simulated(df, truth, desc)


def ab_test_events(n: int = 5_000, *, seed: int = 1, **knobs: Any) -> Simulated:
    """The same experiment as an event log: one row per session and per purchase.

    Parameters
    ----------
    n, seed, **knobs
        As :func:`ab_test_users`.

    Returns
    -------
    Simulated
        ``data``: DataFrame ``user_id, arm, device, day, event ("session" | "purchase"),
        revenue`` (purchase amounts; 0 for sessions), sorted by day and user; rolling it up
        per user gives back the user table's ``sessions``, ``orders`` and ``revenue``
        exactly. ``truth``: as :func:`ab_test_users`, plus ``users``, the user table.
    """
    import numpy as np
    import pandas as pd

    sim = ab_test_users(n, seed=seed, **knobs)
    users = sim.data
    rng = make_rng(seed + 1_000_003)
    days = sim.truth["days"]
    n_sess = users["sessions"].to_numpy().astype(np.int64)
    uidx = np.repeat(np.arange(len(users)), n_sess)
    first = users["first_day"].to_numpy().astype(np.int64)[uidx]
    sess_day = first + rng.integers(0, days, len(uidx)) % (days - first + 1)
    sessions = pd.DataFrame({"row": uidx, "day": sess_day, "event": "session", "cents": 0})
    n_ord = users["orders"].to_numpy().astype(np.int64)
    oidx = np.repeat(np.arange(len(users)), n_ord)
    cents = np.rint(users["revenue"].to_numpy() * 100).astype(np.int64)
    # split each user's revenue (in cents) exactly across the user's orders
    weights = rng.random(len(oidx)) + 0.5
    tot_w = np.bincount(oidx, weights=weights, minlength=len(users))
    share = np.floor(cents[oidx] * weights / tot_w[oidx]).astype(np.int64)
    rest = cents - np.bincount(oidx, weights=share, minlength=len(users)).astype(np.int64)
    firsts = np.flatnonzero(np.r_[True, oidx[1:] != oidx[:-1]]) if len(oidx) else oidx
    share[firsts] += rest[oidx[firsts]]
    first_o = users["first_day"].to_numpy().astype(np.int64)[oidx]
    order_day = first_o + rng.integers(0, days, len(oidx)) % (days - first_o + 1)
    purchases = pd.DataFrame({"row": oidx, "day": order_day, "event": "purchase",
                              "cents": share})
    ev = pd.concat([sessions, purchases], ignore_index=True)
    ev = ev.sort_values(["day", "row", "event"], kind="stable").reset_index(drop=True)
    out = pd.DataFrame({
        "user_id": users["user_id"].to_numpy()[ev["row"]],
        "arm": users["arm"].to_numpy()[ev["row"]],
        "device": users["device"].to_numpy()[ev["row"]],
        "day": ev["day"].astype(np.int16),
        "event": pd.Categorical(ev["event"], categories=["session", "purchase"]),
        "revenue": ev["cents"].to_numpy() / 100,
    })
    out["arm"] = pd.Categorical(out["arm"], categories=users["arm"].cat.categories)
    out["device"] = pd.Categorical(out["device"], categories=users["device"].cat.categories)
    truth = dict(sim.truth)
    truth["users"] = users
    return Simulated(out, truth, sim.description.replace("simulated users",
                                                         "simulated users' events", 1))


def write_ab_test_parquet(path: str | Path, n: int, *, seed: int = 1,
                          chunk_rows: int = 5_000_000, columns: Sequence[str] | None = None,
                          **knobs: Any) -> dict[str, Any]:
    """Write a large simulated user table to Parquet in chunks (bounded memory).

    Parameters
    ----------
    path : str or Path
        Output file (overwritten).
    n : int
        Number of users (rows), e.g. 100_000_000.
    seed : int
        Random seed; chunk ``i`` uses an independent stream spawned from it.
    chunk_rows : int
        Rows per chunk (and per Parquet row group).
    columns : sequence of str, optional
        Columns to keep (default: ``arm, converted, revenue, sessions``). ``arm`` is written
        as a dictionary-encoded string.
    **knobs
        Effects, as :func:`ab_test_users` (no segments or SRM fault here).

    Returns
    -------
    dict
        The truth of the simulation plus ``path``, ``rows`` and ``columns``.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = check_positive_int(n, "n")
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    keep = list(columns) if columns is not None else ["arm", "converted", "revenue", "sessions"]
    design = _Design(knobs.pop("arms", ("control", "treatment")), knobs.pop("split", None),
                     knobs.pop("conversion_lift", 0.10), knobs.pop("aov_lift", 0.0),
                     knobs.pop("sessions_lift", 0.0), knobs.pop("device_lift", None),
                     knobs.pop("base_conversion", 0.05), knobs.pop("aov", 40.0),
                     knobs.pop("sessions", 2.0), knobs.pop("extra_orders", 0.3))
    if knobs:
        raise ParameterError("unknown simulation parameters", parameter="knobs",
                             got=sorted(knobs))
    days = 14
    seqs = np.random.SeedSequence(seed).spawn((n + chunk_rows - 1) // chunk_rows)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    arm_dict = pa.array(list(design.arms), pa.string())
    writer = None
    done = 0
    try:
        for ss in seqs:
            m = min(chunk_rows, n - done)
            cols = _simulate(design, m, np.random.default_rng(ss), days=days, srm_fault=0.0,
                             with_pre="pre_revenue" in keep, start_id=done)
            cols.pop("_keep")
            unknown = [c for c in keep if c not in cols]
            if unknown:
                raise ParameterError("unknown columns", parameter="columns",
                                     expected=f"some of {sorted(cols)}", got=unknown)
            arrays = []
            for c in keep:
                if c == "arm":
                    arrays.append(pa.DictionaryArray.from_arrays(
                        pa.array(cols[c], pa.int8()), arm_dict))
                else:
                    arrays.append(pa.array(cols[c]))
            table = pa.table(arrays, names=keep)
            if writer is None:
                writer = pq.ParquetWriter(str(out), table.schema, compression="snappy")
            writer.write_table(table, row_group_size=m)
            done += m
            del cols, arrays, table
    finally:
        if writer is not None:
            writer.close()
    truth = design.truth()
    truth.update(path=str(out), rows=n, columns=keep)
    return truth
