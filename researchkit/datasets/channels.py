"""Simulated omnichannel customers: identity records, touches over ten channels (online and
offline) and paid orders, generated from known channel effects."""

from __future__ import annotations

from dataclasses import dataclass
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


def _record_ids(numbers: np.ndarray) -> Any:
    """``f"R{k:07d}"`` for each record number (as text, built without a Python loop)."""
    import pyarrow as pa

    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) and numbers.max() >= 10**7:
        return pd.array([f"R{k:07d}" for k in numbers.tolist()], dtype="str")
    chars = np.empty((len(numbers), 8), dtype=np.uint8)
    chars[:, 0] = ord("R")
    rest = numbers.copy()
    for j in range(7, 0, -1):
        chars[:, j] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(len(numbers) + 1, dtype=np.int64) * 8
    return pd.array(pa.LargeStringArray.from_buffers(
        len(numbers), pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())), dtype="str")


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
                      for f, k, d in zip(first.tolist(), pid.tolist(), domain.tolist(),
                                         strict=True)])
    phone = np.array([f"9{x:09d}" for x in rng.choice(10**9, size=n_people,
                                                       replace=False).tolist()])
    card = np.array([f"{10**9 + x:010d}" for x in rng.choice(8 * 10**9, size=n_people,
                                                               replace=False).tolist()])

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

    # -- source records of each person, touches and orders -------------------------------
    conv_j = np.flatnonzero(converted)
    offline = np.isin(np.array(names, dtype=object)[last_channel[conv_j]], list(_OFFLINE))
    order_src = np.where(offline, np.array(names, dtype=object)[last_channel[conv_j]], "web")
    conv_source = ["store" if src == "store" else "call_centre" if src == "call_centre" else
                   "web" for src in order_src.tolist()]

    def between() -> tuple[np.ndarray, np.ndarray]:
        # the touch table's draws come after the records of the touches, before the orders'
        return (rng.integers(1, 4, size=len(t_journey)),
                rng.uniform(0.5, 1.5, size=len(t_journey)))

    made = _make_records(
        rng, touch_person=journey_person[t_journey], touch_source=np.array(system)[t_channel]
        if len(t_channel) else np.empty(0, dtype=object), n_people=n_people,
        conv_person=journey_person[conv_j], conv_source=conv_source, email=email,
        domain=domain, phone=phone, card=card, rates=(malformed_rate, conflict_rate,
                                                      anonymous_rate), between=between)
    campaign_no, cost_u = made.between
    day_secs = 86400.0
    campaigns = np.array([f"{c}_{k}" for c in names for k in (1, 2, 3)], dtype=object)
    touches = pd.DataFrame({
        "record_id": _record_ids(made.touch_record),
        "timestamp": start + pd.to_timedelta(np.round(t_time * day_secs), unit="s"),
        "channel": np.array(names, dtype=object)[t_channel],
        "campaign": campaigns[t_channel * 3 + campaign_no - 1],
        "cost": np.round(cost[t_channel] * cost_u, 2),
    })
    conv_rec = made.conv_record
    n_records = len(made.person)
    records = pd.DataFrame({"record_id": _record_ids(np.arange(1, n_records + 1)),
                            **made.columns})
    value = np.round(rng.lognormal(np.log(60), 0.5, size=len(conv_j))
                     * np.where(offline, 1.3, 1.0), 2)
    conversions = pd.DataFrame({
        "record_id": _record_ids(conv_rec) if len(conv_rec) else [],
        "timestamp": start + pd.to_timedelta(
            np.round((last_time[conv_j] + rng.uniform(0.01, 0.3, size=len(conv_j)))
                     * day_secs), unit="s"),
        "value": value,
        "kind": np.where(offline, "offline", "online"),
        "order_channel": np.where(offline, order_src, "web shop"),
    })
    person_of_record = dict(zip(records["record_id"].tolist(), made.person.tolist(),
                                strict=True))
    # sorted by time, then record id (a stable sort keeps ties in order); record ids sort
    # like their numbers while they have seven digits
    if n_records < 10**7:
        touches = touches.take(np.lexsort((made.touch_record,
                                           touches["timestamp"].to_numpy()))
                               ).reset_index(drop=True)
        conversions = conversions.take(np.lexsort((conv_rec,
                                                   conversions["timestamp"].to_numpy()))
                                       ).reset_index(drop=True)
    else:
        touches = touches.sort_values(["timestamp", "record_id"], ignore_index=True)
        conversions = conversions.sort_values(["timestamp", "record_id"], ignore_index=True)
    truth = {
        "n_people": n_people,
        "person_of_record": person_of_record,
        **chain,
        "journeys": J,
        "conversions": int(converted.sum()),
        "conflict_identifiers": {"loyalty_card": _SHOP_CARD, "device_id": _SHOP_DEVICE},
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


# ----------------------------------------------------------------------------------------------
# source records of the simulated people
# ----------------------------------------------------------------------------------------------
_SHOP_CARD, _SHOP_DEVICE = "0000000001", "tablet-store-01"


@dataclass
class _Made:
    """Records created while walking the touches and orders (numbered from 1 in order)."""

    columns: dict[str, Any]      # source, email, phone, user_id, loyalty_card, device_id
    person: np.ndarray           # the person of each record
    touch_record: np.ndarray     # record number of each touch
    conv_record: np.ndarray      # record number of each order
    between: Any                 # what ``between()`` returned


def _make_records(rng: np.random.Generator, *, touch_person: np.ndarray,
                  touch_source: np.ndarray, n_people: int, conv_person: np.ndarray,
                  conv_source: list[str], email: np.ndarray, domain: np.ndarray,
                  phone: np.ndarray, card: np.ndarray, rates: tuple[float, float, float],
                  between) -> _Made:
    """Each system's record of each person, created when the person first shows up there.

    The rules (the specification; :func:`_records_one_by_one` follows them literally):
    touches are walked in order; a web touch is anonymous with probability ``anonymous_rate``
    (a device-only record; with probability ``2 * conflict_rate`` a log-in on the store's
    demo tablet); otherwise the person's record in the touch's system is created on first use,
    drawing, in this order: the e-mail spelling (web), whether the store has the phone (0.8),
    the phone spelling, the app device (0.5), the cashier's card (``conflict_rate``, store),
    then malformed e-mail and phone (``malformed_rate`` each). Then 60% of people get a CRM
    record; then each order creates the ordering system's and the CRM record.

    With numpy's default bit generator (PCG64) the same draws are read in bulk from the raw
    stream and the records built with array operations (:func:`_records_in_bulk`): the output
    is identical, only faster. Other generators use the literal version.
    """
    if type(rng.bit_generator) is np.random.PCG64:
        made = _records_in_bulk(rng, touch_person=touch_person, touch_source=touch_source,
                                n_people=n_people, conv_person=conv_person,
                                conv_source=conv_source, email=email, domain=domain,
                                phone=phone, card=card, rates=rates, between=between)
        if made is not None:
            return made
    return _records_one_by_one(rng, touch_person=touch_person, touch_source=touch_source,
                               n_people=n_people, conv_person=conv_person,
                               conv_source=conv_source, email=email, phone=phone, card=card,
                               rates=rates, between=between)


def _records_one_by_one(rng: np.random.Generator, *, touch_person: np.ndarray,
                        touch_source: np.ndarray, n_people: int, conv_person: np.ndarray,
                        conv_source: list[str], email: np.ndarray, phone: np.ndarray,
                        card: np.ndarray, rates: tuple[float, float, float],
                        between) -> _Made:
    """The record rules of :func:`_make_records`, one scalar draw at a time."""
    malformed_rate, conflict_rate, anonymous_rate = rates
    cols: dict[str, list[Any]] = {k: [] for k in ("source", "email", "phone", "user_id",
                                                  "loyalty_card", "device_id")}
    c_source, c_email, c_phone, c_user = (cols["source"], cols["email"], cols["phone"],
                                          cols["user_id"])
    c_card, c_device = cols["loyalty_card"], cols["device_id"]
    c_person: list[int] = []
    rec_key: dict[tuple[int, str], int] = {}
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
            loyalty = _SHOP_CARD
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

    t_record = np.empty(len(touch_person), dtype=np.int64)
    for i, (p, src) in enumerate(zip(touch_person.tolist(), touch_source.tolist(),
                                     strict=True)):
        if src == "web" and random() < anonymous_rate:
            # an anonymous visit (a cookie/device only), or a log-in on the store's demo tablet
            tablet = random() < conflict_rate * 2
            c_source.append("web")
            c_email.append(None)
            c_phone.append(None)
            c_user.append(f"U{p:06d}" if tablet else None)
            c_card.append(None)
            c_device.append(_SHOP_DEVICE if tablet else f"d-{p:06d}-anon")
            c_person.append(p)
            t_record[i] = len(c_source)
        else:
            t_record[i] = record(p, src)
    # every person is in the CRM once they buy, and most have a CRM record anyway
    for p in range(n_people):
        if random() < 0.6:
            record(p, "crm")
    drawn = between()
    conv_rec = np.empty(len(conv_person), dtype=np.int64)
    for i, (p, src) in enumerate(zip(conv_person.tolist(), conv_source, strict=True)):
        conv_rec[i] = record(p, src)
        record(p, "crm")
    columns = {k: _text_column(v) for k, v in cols.items()}
    return _Made(columns, np.array(c_person, dtype=np.int64), t_record, conv_rec, drawn)


def _text_column(values: Any) -> Any:
    """A list of str/None, or an Arrow array with nulls, as a DataFrame column built from
    Python objects would hold it (``str``, or ``object`` when there is no text at all)."""
    if isinstance(values, list):
        return values
    if values.null_count == len(values):
        return np.full(len(values), None, dtype=object)
    return pd.array(values, dtype="str")


class _Stream:
    """``rng.random()`` and ``rng.integers(0, 5)`` of a PCG64 generator, read in bulk.

    A double is ``(word >> 11) * 2**-53`` of the next 64-bit word; a 32-bit draw takes the low
    half of a new word and keeps the high half for the next 32-bit draw (numpy's PCG64
    buffering), and ``integers(0, 5)`` is ``(u * 5) >> 32`` (Lemire's method; a draw of 0 would
    be rejected and drawn again, which the caller checks for). :meth:`finish` leaves the
    generator exactly where the scalar calls would have left it.
    """

    def __init__(self, rng: np.random.Generator, chunk: int = 1 << 20) -> None:
        self.rng = rng
        self.state = rng.bit_generator.state
        self.gen = np.random.PCG64()
        self.gen.state = self.state
        self.chunk = chunk
        self.parts: list[np.ndarray] = []
        self.total = 0
        self.pending = bool(self.state["has_uint32"])

    def tail(self, base: int) -> np.ndarray:
        """The words from position ``base`` on, after reading a new chunk."""
        new = self.gen.random_raw(self.chunk).astype(np.uint64)
        self.parts.append(new)
        self.total += len(new)
        words, start = [], self.total
        for chunk in reversed(self.parts):
            if start <= base:
                break
            start -= len(chunk)
            words.append(chunk[max(base - start, 0):])
        return np.concatenate(words[::-1])

    def finish(self, used: int, pending: bool, pending_word: int) -> np.ndarray:
        """Move the generator past the ``used`` words; ``pending_word``: the last word a 32-bit
        draw split (-1: none). Returns the words read, plus a last word whose high half is the
        half the generator held at the start."""
        start = np.uint64(self.state["uinteger"]) << np.uint64(32)
        words = np.concatenate([*self.parts, np.array([start], dtype=np.uint64)])
        gen = np.random.PCG64()
        gen.state = self.state
        gen.advance(used)
        state = gen.state
        state["has_uint32"] = int(pending)
        # the generator keeps the high half of the last word a 32-bit draw split, used or not
        state["uinteger"] = int(words[pending_word] >> np.uint64(32))
        self.rng.bit_generator.state = state
        return words


_WEB, _CRM, _APP, _MSG, _CALL, _STORE, _ANON = range(7)
_KNOWN = {"web": _WEB, "crm": _CRM, "app": _APP, "messenger": _MSG, "call_centre": _CALL,
          "store": _STORE}


# per system: whether a new record draws a 32-bit spelling, and how many doubles follow
# (web: malformed e-mail; CRM: malformed e-mail and phone; app: device; messenger, call
# centre: malformed phone; the store's draws depend on whether it has the phone)
_SPELL = (True, True, False, True, True, False)
_DOUBLES = (1, 2, 1, 1, 1, 0)


def _scan(stream: _Stream, at: tuple[int, bool, int], people: list[int], systems: list[int],
          seen: list[int], rec: list[list[int]], n_codes: int, threshold: float,
          mode: str, next_num: int) -> tuple[list[int], tuple[int, bool, int], int]:
    """Walk the events, making the decisions the scalar version makes and counting its draws.

    ``at``: (words used, whether a 32-bit half is pending, the word it came from). ``mode``
    "touches": touches of ``people`` in ``systems``, a web touch anonymous when its draw is
    below ``threshold``; "crm": each person draws, a CRM record when below ``threshold``;
    "orders": orders of ``people`` in ``systems``, each followed by the person's CRM record.
    New records are appended to ``rec`` (person * 16 + system code, start word * 2 + pending,
    word of the pending half). Returns the record number of each touch or order, the state
    after the events and the next record number.
    """
    w, pend, pword = at
    r_who, r_at, r_pword = rec
    out: list[int] = []
    put = out.append
    add_who, add_at, add_pword = r_who.append, r_at.append, r_pword.append
    base, limit = w, -1
    decide: list[bool] = []
    store_phone: list[bool] = []
    spell, doubles_after = _SPELL + (False,) * n_codes, _DOUBLES + (0,) * n_codes
    crm, orders = mode == "crm", mode == "orders"
    for p, s in zip(people, systems if not crm else [_CRM] * len(people), strict=True):
        if w > limit:  # the next stretch of draws (one event uses at most nine words)
            words = stream.tail(base=w)
            base = w
            doubles = (words >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
            decide = (doubles < threshold).tolist()
            store_phone = (doubles < 0.8).tolist()
            limit = base + len(words) - 16
        if crm:
            w += 1
            if not decide[w - 1 - base]:
                continue
        elif s == _WEB and not orders:
            if decide[w - base]:  # anonymous: this draw and the tablet draw
                add_who(p * 16 + _ANON)
                add_at((w + 1) * 2)
                add_pword(0)
                w += 2
                put(next_num)
                next_num += 1
                continue
            w += 1
        while True:
            key = p * n_codes + s
            num = seen[key]
            if not num:
                add_who(p * 16 + s)
                add_at(w * 2 + pend)
                add_pword(pword)
                if s == _STORE:
                    phone = store_phone[w - base]
                    w += 1
                    if phone:
                        if pend:
                            pend = False
                        else:
                            pword, pend = w, True
                            w += 1
                        w += 2
                    else:
                        w += 1
                elif spell[s]:
                    if pend:
                        pend = False
                    else:
                        pword, pend = w, True
                        w += 1
                    w += doubles_after[s]
                else:
                    w += doubles_after[s]
                num = next_num
                next_num += 1
                seen[key] = num
            if not crm:
                put(num)
            if orders and s != _CRM:
                s = _CRM  # the CRM record of the ordering person
                continue
            break
    if orders:  # only each order's own record, not the CRM record's
        out = out[::2]
    return out, (w, pend, pword), next_num


def _padded(numbers: np.ndarray, width: int = 6) -> Any:
    """``f"{k:0{width}d}"`` for non-negative integers, as an Arrow array."""
    import pyarrow as pa

    numbers = np.asarray(numbers, dtype=np.int64)
    sizes = np.full(len(numbers), width, dtype=np.int64)
    for d in range(width + 1, 20):
        sizes[numbers >= 10 ** (d - 1)] = d
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for d in np.unique(sizes):
        rows = np.flatnonzero(sizes == d)
        rest = numbers[rows].copy()
        chars = np.empty((len(rows), d), dtype=np.uint8)
        for j in range(d - 1, -1, -1):
            chars[:, j] = 48 + rest % 10
            rest //= 10
        spots = (offsets[rows][:, None] + np.arange(d)).ravel()
        out[spots] = chars.ravel()
    return pa.LargeStringArray.from_buffers(len(numbers), pa.py_buffer(offsets),
                                            pa.py_buffer(out.tobytes()))


def _records_in_bulk(rng: np.random.Generator, *, touch_person: np.ndarray,
                     touch_source: np.ndarray, n_people: int, conv_person: np.ndarray,
                     conv_source: list[str], email: np.ndarray, domain: np.ndarray,
                     phone: np.ndarray, card: np.ndarray, rates: tuple[float, float, float],
                     between) -> _Made | None:
    """:func:`_records_one_by_one` with the draws read in bulk (PCG64 only); ``None``, with
    the generator untouched, in the rare case that a 32-bit draw would have been redrawn."""
    import pyarrow as pa
    import pyarrow.compute as pc

    malformed_rate, conflict_rate, anonymous_rate = rates
    start_state = rng.bit_generator.state
    labels = list(_KNOWN) + sorted(set(touch_source.tolist()) - set(_KNOWN) - {"crm"})
    code_of = {**_KNOWN, **{x: 7 + i for i, x in enumerate(labels[6:])}}
    n_codes = 7 + len(labels) - 6
    rec: list[list[int]] = [[], [], []]
    seen = [0] * (n_people * n_codes)  # record number of (person, system); 0: none yet
    # the touches and the CRM draw of every person read one stream, then the touch table
    # draws with the generator itself, then the orders read a second stream
    first = _Stream(rng, chunk=min(1 << 20, 4 * (len(touch_person) + n_people) + 64))
    t_record, state, num = _scan(
        first, (0, first.pending, -1), touch_person.tolist(),
        [code_of[x] for x in touch_source.tolist()], seen, rec, n_codes, anonymous_rate,
        "touches", 1)
    _, state, num = _scan(first, state, list(range(n_people)), [], seen, rec, n_codes, 0.6,
                          "crm", num)
    words1 = first.finish(*state)
    n_first = len(rec[0])
    drawn = between()
    second = _Stream(rng, chunk=min(1 << 20, 9 * len(conv_person) + 64))
    conv_rec, state, num = _scan(
        second, (0, second.pending, -1), conv_person.tolist(),
        [code_of[x] for x in conv_source], seen, rec, n_codes, 2.0, "orders", num)
    words2 = second.finish(*state)

    # every record's draws, from the words at its start (second-stream words come after)
    words = np.concatenate([words1, words2])
    who = np.array(rec[0], dtype=np.int64)
    src, person = who % 16, who // 16
    state_at = np.array(rec[1], dtype=np.int64)
    at, pend = state_at // 2, (state_at % 2).astype(bool)
    pword = np.array(rec[2], dtype=np.int64)
    at[n_first:] += len(words1)
    pword[:n_first][pword[:n_first] < 0] = len(words1) - 1
    pword[n_first:] = np.where(pword[n_first:] < 0, len(words) - 1,
                               pword[n_first:] + len(words1))
    t_record = np.array(t_record, dtype=np.int64)
    conv_rec = np.array(conv_rec, dtype=np.int64)
    doubles = (words >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    n_rec = len(src)
    store, app, anon = src == _STORE, src == _APP, src == _ANON
    has_mail = (src == _WEB) | (src == _CRM)
    phone_on = np.isin(src, [_CRM, _MSG, _CALL])
    store_phone = np.zeros(n_rec, dtype=bool)
    store_phone[store] = doubles[at[store]] < 0.8
    at[store] += 1
    phone_on |= store_phone
    spell = phone_on | (src == _WEB)  # a 32-bit draw: the phone or e-mail spelling
    low = (words & np.uint64(0xFFFFFFFF))[np.minimum(at, len(words) - 1)]
    value = np.where(pend, words[pword] >> np.uint64(32), low)
    if (value[spell] == 0).any():  # a redraw (probability 2**-32 a draw) is not followed
        rng.bit_generator.state = start_state
        return None
    k = np.where(spell, ((value * np.uint64(5)) >> np.uint64(32)).astype(np.int64), -1)
    at[spell & ~pend] += 1
    app_web = np.zeros(n_rec, dtype=bool)
    app_web[app] = doubles[at[app]] < 0.5
    conflict = np.zeros(n_rec, dtype=bool)
    conflict[store] = doubles[at[store]] < conflict_rate
    at[store] += 1
    bad_mail = np.zeros(n_rec, dtype=bool)
    bad_mail[has_mail] = doubles[at[has_mail]] < malformed_rate
    at[has_mail] += 1
    bad_phone = np.zeros(n_rec, dtype=bool)
    bad_phone[phone_on] = doubles[at[phone_on]] < malformed_rate
    tablet = np.zeros(n_rec, dtype=bool)
    tablet[anon] = doubles[at[anon]] < conflict_rate * 2

    # the identifiers, spelt as the scalar version spells them
    def lstr(values) -> pa.Array:
        return pa.array(values, type=pa.large_string())

    def join(*parts) -> pa.Array:
        parts = [pa.scalar(x, pa.large_string()) if isinstance(x, str) else x for x in parts]
        return pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))

    def column(mask: np.ndarray, values: pa.Array) -> pa.Array:
        empty = pa.nulls(n_rec, pa.large_string())
        return pc.replace_with_mask(empty, pa.array(mask), values) if mask.any() else empty

    def where(mask: np.ndarray, yes, no) -> pa.Array:
        return pc.if_else(pa.array(mask), yes, no) if mask.any() else no

    rows = np.flatnonzero(has_mail)
    who = pa.array(person[rows])
    mail = lstr(email.tolist()).take(who)
    local = lstr([e.split("@")[0] for e in email.tolist()]).take(who)
    dom = lstr(np.asarray(domain).tolist()).take(who)
    dom_np = np.asarray(domain)[person[rows]]
    kk = np.where(src[rows] == _WEB, k[rows], -1)
    mail = where(kk == 0, pc.utf8_upper(mail), mail)
    mail = where(kk == 1, join("  ", pc.utf8_capitalize(local), "@", dom, " "), mail)
    mail = where((kk == 2) & (dom_np == "gmail.com"), join(
        pc.utf8_slice_codeunits(local, 0, 2), ".", pc.utf8_slice_codeunits(local, 2),
        "+promo@googlemail.com"), mail)
    mail = where((kk == 3) & (dom_np == "yandex.ru"), join(local, "@ya.ru"), mail)
    mail = where((kk == 4) & np.isin(dom_np, ["gmail.com", "outlook.com", "yandex.ru"]),
                 join(local, "+shop@", dom), mail)
    mail = where(bad_mail[rows], pc.replace_substring(pc.utf8_trim_whitespace(mail), "@",
                                                      " at "), mail)
    rows_p = np.flatnonzero(phone_on)
    digits = lstr(np.asarray(phone).tolist()).take(pa.array(person[rows_p]))
    kp = k[rows_p]

    def part(a: int, b: int | None = None) -> pa.Array:
        return pc.utf8_slice_codeunits(digits, a, b)

    tel = join(lstr(np.array(["", "8", "", "7", "+7"], dtype=object)[kp].tolist()), digits)
    tel = where(kp == 0, join("+7 (", part(0, 3), ") ", part(3, 6), "-", part(6, 8), "-",
                              part(8)), tel)
    tel = where(kp == 2, join("8 ", part(0, 3), " ", part(3, 6), " ", part(6, 8), " ",
                              part(8)), tel)
    tel = where(bad_phone[rows_p], pc.utf8_slice_codeunits(tel, 0, -4), tel)
    user_on = (src == _WEB) | app | tablet
    device_on = (src == _WEB) | app | anon
    suffix = np.where(src == _WEB, "web", np.where(anon, "anon",
                                                    np.where(app_web, "web", "app")))
    device = join("d-", _padded(person[device_on]), "-", lstr(suffix[device_on].tolist()))
    device = where(tablet[device_on], pa.scalar(_SHOP_DEVICE, pa.large_string()), device)
    card_on = (src == _CRM) | store
    cards = lstr(np.asarray(card).tolist()).take(pa.array(person[card_on]))
    cards = where(conflict[card_on], pa.scalar(_SHOP_CARD, pa.large_string()), cards)
    names = [*labels[:6], "web", *labels[6:]]
    columns = {
        "source": lstr(names).take(pa.array(src)),
        "email": column(has_mail, mail),
        "phone": column(phone_on, tel),
        "user_id": column(user_on, join("U", _padded(person[user_on]))),
        "loyalty_card": column(card_on, cards),
        "device_id": column(device_on, device),
    }
    return _Made({k: _text_column(v) for k, v in columns.items()}, person, t_record,
                 conv_rec, drawn)
