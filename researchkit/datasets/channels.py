"""Simulated omnichannel customers: identity records, touches over ten channels (online and
offline) and paid orders, generated from known channel effects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError

__all__ = ["OMNICHANNEL_CHANNELS", "channel_chain", "simulate_channel_paths",
           "simulate_omnichannel"]

#: channel: (start weight, transition weight, closing probability, cost per touch, system).
#: A journey is a walk of a first-order Markov chain: it starts at a channel with probability
#: proportional to the start weight; after a touch of channel *i* the person orders with the
#: channel's closing probability, drops out with probability ``drop``, and otherwise moves to
#: another channel *j* with probability proportional to its transition weight.
OMNICHANNEL_CHANNELS: dict[str, tuple[float, float, float, float, str]] = {
    "search": (0.20, 0.16, 0.08, 0.80, "web"),
    "social": (0.18, 0.12, 0.02, 0.40, "web"),
    "display": (0.15, 0.12, 0.00, 0.20, "web"),
    "direct": (0.08, 0.10, 0.06, 0.00, "web"),
    "email": (0.10, 0.12, 0.06, 0.01, "crm"),
    "sms": (0.04, 0.06, 0.04, 0.05, "crm"),
    "push": (0.05, 0.06, 0.02, 0.00, "app"),
    "messenger": (0.06, 0.08, 0.05, 0.02, "messenger"),
    "call_centre": (0.06, 0.08, 0.20, 2.00, "call_centre"),
    "store": (0.08, 0.10, 0.25, 0.00, "store"),
}
_OFFLINE = {"store", "call_centre"}
_FIRST = ["anna", "ivan", "olga", "petr", "maria", "sergey", "elena", "dmitry", "irina", "oleg"]
_DOMAINS = ["gmail.com", "mail.ru", "yandex.ru", "outlook.com", "bk.ru"]


def _email_variant(email: str, rng: np.random.Generator) -> str:
    """The same mailbox spelt differently (case, spaces, Gmail dots/plus, provider aliases)."""
    local, domain = email.split("@")
    k = rng.integers(0, 5)
    if k == 0:
        return email.upper()
    if k == 1:
        return f"  {local.capitalize()}@{domain} "
    if k == 2 and domain == "gmail.com":
        return f"{local[:2]}.{local[2:]}+promo@googlemail.com"
    if k == 3 and domain == "yandex.ru":
        return f"{local}@ya.ru"
    if k == 4 and domain in ("gmail.com", "outlook.com", "yandex.ru"):
        return f"{local}+shop@{domain}"
    return email


def _phone_variant(digits10: str, rng: np.random.Generator) -> str:
    """A Russian mobile number written in one of the usual formats."""
    k = rng.integers(0, 5)
    if k == 0:
        return f"+7 ({digits10[:3]}) {digits10[3:6]}-{digits10[6:8]}-{digits10[8:]}"
    if k == 2:
        return f"8 {digits10[:3]} {digits10[3:6]} {digits10[6:8]} {digits10[8:]}"
    return ("", "8", "", "7", "+7")[k] + digits10


def _record_ids(numbers: np.ndarray) -> pd.Series:
    """``f"R{k:07d}"`` for each record number (as text, built without a Python loop)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) and numbers.max() >= 10**7:
        return pd.Series([f"R{k:07d}" for k in numbers.tolist()], dtype="str")
    chars = np.empty((len(numbers), 8), dtype=np.uint8)
    chars[:, 0] = ord("R")
    rest = numbers.copy()
    for j in range(7, 0, -1):
        chars[:, j] = 48 + rest % 10
        rest //= 10
    text = chars.view("S8").ravel().astype("U8")
    return pd.Series(text, dtype="str")


def channel_chain(
    channels: dict[str, tuple[float, float, float, float, str]] | None = None,
    drop: float = 0.2,
) -> dict[str, Any]:
    """The first-order Markov chain the simulators walk, and its exact removal effects.

    Returns
    -------
    dict
        ``channels`` (names), ``start`` (start probabilities), ``transition`` (K × (K+2)
        matrix: to each channel, then to ``(conversion)`` and ``(null)``),
        ``conversion_probability`` (of a journey), ``removal_effects`` (channel → 1 − P₋c/P,
        with P₋c the conversion probability when every walk entering *c* ends without an
        order; Anderl et al. 2016) and ``attribution_shares`` (removal effects normalised to
        sum to 1). Computed with the dense fundamental matrix :math:`(I - Q)^{-1}`
        (Kemeny & Snell 1976).
    """
    spec = dict(channels or OMNICHANNEL_CHANNELS)
    if not isinstance(drop, int | float) or not 0 < drop < 1:
        raise ParameterError("drop-out probability must be in (0, 1)", parameter="drop",
                         got=drop)
    names = list(spec)
    K = len(names)
    if K < 2:
        raise ParameterError("the channel chain needs at least two channels",
                             parameter="channels", got=names)
    start = np.array([spec[c][0] for c in names], dtype=float)
    start = start / start.sum()
    weight = np.array([spec[c][1] for c in names], dtype=float)
    close = np.array([spec[c][2] for c in names], dtype=float)
    if np.any(close + drop >= 1) or np.any(close < 0):
        raise ParameterError("closing probability + drop must be below 1",
                             parameter="channels", got=close.tolist())
    move = np.tile(weight, (K, 1))
    np.fill_diagonal(move, 0.0)
    move = move / move.sum(axis=1, keepdims=True) * (1 - close - drop)[:, None]
    transition = np.column_stack([move, close, np.full(K, drop)])

    def p_conv(removed: int | None) -> float:
        Q, r = move.copy(), close.copy()
        if removed is not None:
            Q[removed, :] = 0.0
            r[removed] = 0.0
        return float(start @ np.linalg.solve(np.eye(K) - Q, r))

    full = p_conv(None)
    re = np.array([1 - p_conv(c) / full for c in range(K)])
    return {"channels": names, "start": start, "transition": transition,
            "conversion_probability": full,
            "removal_effects": dict(zip(names, re.tolist(), strict=True)),
            "attribution_shares": dict(zip(names, (re / re.sum()).tolist(), strict=True))}


def _walk(rng: np.random.Generator, n: int, start: np.ndarray, transition: np.ndarray,
          max_steps: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n walks of the chain: flat channel codes, offsets, converted flags."""
    K = len(start)
    cum = np.cumsum(transition, axis=1)
    cum[:, -1] = 1.0
    state = np.searchsorted(np.cumsum(start), rng.random(n), side="right").clip(0, K - 1)
    steps = [state.copy()]
    walk_ids = [np.arange(n)]
    active = np.arange(n)
    converted = np.zeros(n, dtype=bool)
    for _ in range(max_steps):
        u = rng.random(len(active))
        nxt = (u[:, None] > cum[state]).sum(axis=1)
        conv = nxt == K
        converted[active[conv]] = True
        go = nxt < K
        active, state = active[go], nxt[go]
        if not len(active):
            break
        steps.append(state)
        walk_ids.append(active)
    ids = np.concatenate(walk_ids)
    codes = np.concatenate(steps)
    order = np.argsort(ids, kind="stable")
    lengths = np.bincount(ids, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return codes[order], offsets, converted


def simulate_channel_paths(
    n_journeys: int = 100_000,
    seed: int | np.random.Generator | None = 0,
    *,
    drop: float = 0.2,
    channels: dict[str, tuple[float, float, float, float, str]] | None = None,
    values: bool = True,
) -> Simulated:
    """A unique-path table (ChannelAttribution format) from the known channel chain.

    Journeys are walks of :func:`channel_chain`; order values are log-normal (median 60,
    offline orders 30% larger). Fast enough for millions of journeys.

    Returns
    -------
    Simulated
        ``data``: ``path`` (``"a > b"``), ``conversions``, ``nulls``, ``value``;
        ``truth``: everything :func:`channel_chain` returns.
    """
    n_journeys = check_positive_int(n_journeys, "n_journeys")
    rng = make_rng(seed)
    chain = channel_chain(channels, drop)
    names = chain["channels"]
    tables = []
    chunk = 1_000_000
    for lo in range(0, n_journeys, chunk):
        n = min(chunk, n_journeys - lo)
        codes, offsets, converted = _walk(rng, n, chain["start"], chain["transition"])
        K = len(names)
        last = codes[offsets[1:] - 1]
        offline = np.isin(last, [names.index(c) for c in _OFFLINE if c in names])
        value = np.where(converted, np.round(rng.lognormal(np.log(60), 0.5, size=n)
                                              * np.where(offline, 1.3, 1.0), 2), 0.0)
        # path strings via factorised packed digits (fast for millions of walks)
        packed = _pack(codes, offsets, K)
        rows = np.ascontiguousarray(packed).view(
            np.dtype((np.void, packed.dtype.itemsize * packed.shape[1]))).ravel()
        _, first_idx, inv = np.unique(rows, return_index=True, return_inverse=True)
        uniq = packed[first_idx]
        inv = inv.ravel()
        frame = pd.DataFrame({"key": inv, "conversions": converted.astype(np.int64),
                              "nulls": (~converted).astype(np.int64), "value": value})
        agg = frame.groupby("key", sort=True).sum()
        agg["path"] = [_unpack(row, names) for row in uniq[agg.index.to_numpy()]]
        tables.append(agg.reset_index(drop=True))
    table = pd.concat(tables).groupby("path", sort=True).sum().reset_index()
    if not values:
        table = table.drop(columns="value")
    table = table.sort_values(["conversions", "nulls", "path"], ascending=[False, False, True],
                              ignore_index=True)[
        ["path", "conversions", "nulls"] + (["value"] if values else [])]
    return Simulated(data=table, truth=chain, description=(
        f"{n_journeys} journeys walked on a known first-order chain over {len(names)} "
        f"channels, aggregated to {len(table)} unique paths."))


def _pack(codes: np.ndarray, offsets: np.ndarray, K: int) -> np.ndarray:
    """Each walk as a fixed-width row of channel codes + 1 (0 = padding)."""
    lengths = np.diff(offsets)
    width = int(lengths.max())
    out = np.zeros((len(lengths), width), dtype=np.int16 if K < 32000 else np.int32)
    walk = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(len(codes)) - np.repeat(offsets[:-1], lengths)
    out[walk, pos] = codes + 1
    return out


def _unpack(row: np.ndarray, names: list[str]) -> str:
    return " > ".join(names[c - 1] for c in row if c > 0)


def simulate_omnichannel(
    n_people: int = 2000,
    seed: int | np.random.Generator | None = 0,
    *,
    days: int = 120,
    drop: float = 0.2,
    malformed_rate: float = 0.02,
    conflict_rate: float = 0.03,
    anonymous_rate: float = 0.15,
    channels: dict[str, tuple[float, float, float, float, str]] | None = None,
) -> Simulated:
    """Customers with several identifiers, touches over 10 channels, online and offline orders.

    Each person has one journey (a quarter of them two, at least 40 days apart). A journey is a
    walk of the known channel chain (:func:`channel_chain`, :data:`OMNICHANNEL_CHANNELS`):
    after each touch the person orders with the channel's closing probability, drops out with
    probability ``drop`` or moves on to another channel, so the true Markov removal effects are
    known exactly (``truth["removal_effects"]``). Touches are hours to days apart (a journey
    spans at most 25 days); the order follows the last touch within hours, offline (store or
    phone order) when the last touch is the store or the call centre.

    Every touch is logged by the system of its channel (web, CRM, app, messenger, call centre,
    store) under that system's own record of the person: web and app accounts with a user id,
    the e-mail spelt in variants and a device; CRM, call-centre, messenger and (mostly) store
    records with the phone in mixed formats; store and CRM records with a loyalty card. A share
    ``anonymous_rate`` of web visits are anonymous (device only). A share ``malformed_rate`` of
    e-mails and phones is malformed; a share ``conflict_rate`` of store records carries the
    cashier's default loyalty card, and some web log-ins happen on the store's demo tablet:
    hub identifiers shared by unrelated people.

    Parameters
    ----------
    n_people : int
        Number of real people.
    seed : int or Generator
    days : int
        Length of the observation period (>= 90).
    drop : float
        Probability of dropping out after a touch.
    malformed_rate, conflict_rate, anonymous_rate : float
        Shares of malformed identifiers, of store records with the shared loyalty card, and of
        anonymous web visits.
    channels : dict, optional
        Replace :data:`OMNICHANNEL_CHANNELS` (same tuple layout).

    Returns
    -------
    Simulated
        ``data`` = dict with ``records`` (one row per source record: ``record_id``, ``source``,
        ``email``, ``phone``, ``user_id``, ``loyalty_card``, ``device_id``), ``touches``
        (``record_id``, ``timestamp``, ``channel``, ``campaign``, ``cost``) and
        ``conversions`` (``record_id``, ``timestamp``, ``value``, ``kind``, ``order_channel``).
        ``truth`` holds ``person_of_record``, ``n_people``, the chain (``start``,
        ``transition``, ``removal_effects``, ``attribution_shares``), the number of simulated
        ``journeys`` and ``conversions``, and the planted ``conflict_identifiers``.
    """
    n_people = check_positive_int(n_people, "n_people")
    days = check_positive_int(days, "days", minimum=90)
    for name, val in (("malformed_rate", malformed_rate), ("conflict_rate", conflict_rate),
                      ("anonymous_rate", anonymous_rate)):
        if not isinstance(val, int | float) or not 0 <= val < 1:
            raise ParameterError("rate must be in [0, 1)", parameter=name, got=val)
    spec = dict(channels or OMNICHANNEL_CHANNELS)
    chain = channel_chain(spec, drop)
    rng = make_rng(seed)
    names = chain["channels"]
    cost = np.array([spec[c][3] for c in names], dtype=float)
    system = [spec[c][4] for c in names]
    K = len(names)
    start = pd.Timestamp("2026-01-01")

    # -- people and their true identifiers ------------------------------------------------
    pid = np.arange(n_people)
    first = rng.choice(_FIRST, size=n_people)
    domain = rng.choice(_DOMAINS, size=n_people)
    email = np.array([f"{f}.{k:05d}@{d}" if d != "gmail.com" else f"{f}{k:05d}@{d}"
                      for f, k, d in zip(first, pid, domain, strict=True)])
    phone = np.array([f"9{x:09d}" for x in rng.choice(10**9, size=n_people, replace=False)])
    card = np.array([f"{10**9 + x:010d}" for x in rng.choice(8 * 10**9, size=n_people,
                                                               replace=False)])

    # -- journeys (walks of the chain), touches, conversions ---------------------------------
    n_j = 1 + (rng.random(n_people) < 0.25)
    journey_person = np.repeat(pid, n_j)
    J = len(journey_person)
    second = np.concatenate([[False], journey_person[1:] == journey_person[:-1]])
    j_start = np.where(second, 0.0, rng.uniform(0, days - 75, size=J))
    prev_start = np.concatenate([[0.0], j_start[:-1]])
    j_start = np.where(second, prev_start + rng.uniform(40, 60, size=J), j_start)
    t_channel, offsets, converted = _walk(rng, J, chain["start"], chain["transition"])
    L = np.diff(offsets)
    t_journey = np.repeat(np.arange(J), L)
    gaps = rng.exponential(1.5, size=len(t_journey))
    pos0 = np.zeros(len(t_journey), dtype=bool)
    pos0[offsets[:-1]] = True
    gaps[pos0] = 0.0
    cum = pd.Series(gaps).groupby(t_journey).cumsum().to_numpy()
    span = pd.Series(cum).groupby(t_journey).transform("max").to_numpy()
    cum = np.where(span > 25, cum * 25 / np.maximum(span, 1e-9), cum)
    t_time = j_start[t_journey] + cum
    last_idx = offsets[1:] - 1
    last_channel = t_channel[last_idx]
    last_time = t_time[last_idx]

    # -- source records of each person -------------------------------------------------------
    # Records are numbered in the order they are created, so the columns below are already
    # sorted by record id. The random draws happen in a fixed order (one scalar draw at a
    # time, exactly as the simulation is specified), which keeps every seed's data stable.
    cols: dict[str, list[Any]] = {k: [] for k in ("source", "email", "phone", "user_id",
                                                  "loyalty_card", "device_id", "_person")}
    c_source, c_email, c_phone, c_user = (cols["source"], cols["email"], cols["phone"],
                                          cols["user_id"])
    c_card, c_device, c_person = cols["loyalty_card"], cols["device_id"], cols["_person"]
    rec_key: dict[tuple[int, str], int] = {}
    shop_card, shop_device = "0000000001", "tablet-store-01"
    random = rng.random
    email_list, phone_list, card_list = email.tolist(), phone.tolist(), card.tolist()

    def record(p: int, source: str) -> int:
        key = (p, source)
        num = rec_key.get(key)
        if num is not None:
            return num
        mail = tel = user = loyalty = device = None
        if source == "web":
            mail = _email_variant(email_list[p], rng)
        elif source == "crm":
            mail = email_list[p]
        if source in ("crm", "call_centre", "messenger") or (
                source == "store" and random() < 0.8):
            tel = _phone_variant(phone_list[p], rng)
        if source == "web" or source == "app":
            user = f"U{p:06d}"
            device = f"d-{p:06d}-{source}"
        if source == "app":
            device = f"d-{p:06d}-web" if random() < 0.5 else f"d-{p:06d}-app"
        if source == "crm" or source == "store":
            loyalty = card_list[p]
        if source == "store" and random() < conflict_rate:
            loyalty = shop_card
        if mail is not None and random() < malformed_rate:
            mail = mail.strip().replace("@", " at ")
        if tel is not None and random() < malformed_rate:
            tel = tel[:-4]
        c_source.append(source)
        c_email.append(mail)
        c_phone.append(tel)
        c_user.append(user)
        c_card.append(loyalty)
        c_device.append(device)
        c_person.append(p)
        num = len(c_source)
        rec_key[key] = num
        return num

    t_record = np.empty(len(t_journey), dtype=np.int64)
    web = [src == "web" for src in system]
    for i, (p, c) in enumerate(zip(journey_person[t_journey].tolist(), t_channel.tolist(),
                                   strict=True)):
        if web[c] and random() < anonymous_rate:
            # an anonymous visit (a cookie/device only), or a log-in on the store's demo tablet
            tablet = random() < conflict_rate * 2
            c_source.append("web")
            c_email.append(None)
            c_phone.append(None)
            c_user.append(f"U{p:06d}" if tablet else None)
            c_card.append(None)
            c_device.append(shop_device if tablet else f"d-{p:06d}-anon")
            c_person.append(p)
            t_record[i] = len(c_source)
        else:
            t_record[i] = record(p, system[c])
    # every person is in the CRM once they buy, and most have a CRM record anyway
    for p in pid.tolist():
        if random() < 0.6:
            record(p, "crm")
    campaign_no = rng.integers(1, 4, size=len(t_journey))
    day_secs = 86400.0
    campaigns = np.array([f"{c}_{k}" for c in names for k in (1, 2, 3)], dtype=object)
    touches = pd.DataFrame({
        "record_id": _record_ids(t_record),
        "timestamp": start + pd.to_timedelta(np.round(t_time * day_secs), unit="s"),
        "channel": np.array(names, dtype=object)[t_channel],
        "campaign": campaigns[t_channel * 3 + campaign_no - 1],
        "cost": np.round(cost[t_channel] * rng.uniform(0.5, 1.5, size=len(t_journey)), 2),
    })
    conv_j = np.flatnonzero(converted)
    offline = np.isin(np.array(names, dtype=object)[last_channel[conv_j]], list(_OFFLINE))
    order_src = np.where(offline, np.array(names, dtype=object)[last_channel[conv_j]], "web")
    conv_rec = np.empty(len(conv_j), dtype=np.int64)
    for i, (j, src) in enumerate(zip(conv_j.tolist(), order_src.tolist(), strict=True)):
        p = int(journey_person[j])
        conv_rec[i] = record(p, "store" if src == "store" else
                             "call_centre" if src == "call_centre" else "web")
        record(p, "crm")
    n_records = len(c_source)
    records = pd.DataFrame({"record_id": _record_ids(np.arange(1, n_records + 1)),
                            **{k: v for k, v in cols.items() if k != "_person"}})
    value = np.round(rng.lognormal(np.log(60), 0.5, size=len(conv_j))
                     * np.where(offline, 1.3, 1.0), 2)
    conversions = pd.DataFrame({
        "record_id": _record_ids(conv_rec),
        "timestamp": start + pd.to_timedelta(
            np.round((last_time[conv_j] + rng.uniform(0.01, 0.3, size=len(conv_j)))
                     * day_secs), unit="s"),
        "value": value,
        "kind": np.where(offline, "offline", "online"),
        "order_channel": np.where(offline, order_src, "web shop"),
    })
    person_of_record = dict(zip(records["record_id"].tolist(), c_person, strict=True))
    # sorted by time, then record id (= record number; a stable sort keeps ties in order)
    touches = touches.take(np.lexsort((t_record, touches["timestamp"].to_numpy()))
                           ).reset_index(drop=True)
    conversions = conversions.take(np.lexsort((conv_rec, conversions["timestamp"].to_numpy()))
                                   ).reset_index(drop=True)
    truth = {
        "n_people": n_people,
        "person_of_record": person_of_record,
        **chain,
        "journeys": J,
        "conversions": int(converted.sum()),
        "conflict_identifiers": {"loyalty_card": shop_card, "device_id": shop_device},
    }
    description = (
        f"{n_people} simulated people, {J} journeys, {len(touches)} touches over {K} channels "
        f"(online and offline), {len(conversions)} paid orders "
        f"({int(offline.sum())} offline), logged by {records['source'].nunique()} systems in "
        f"{len(records)} records. Journeys are walks of a known channel chain "
        "(truth['removal_effects']); identifiers are spelt in variants, some malformed, and a "
        "shared loyalty card and a store tablet link unrelated people."
    )
    return Simulated(data={"records": records, "touches": touches,
                           "conversions": conversions}, truth=truth, description=description)
