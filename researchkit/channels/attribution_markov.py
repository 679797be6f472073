"""Markov-chain attribution with removal effects computed exactly from the absorbing chain.

Journeys are read as walks of a Markov chain: ``(start) → s1 → s2 → … → (conversion)`` or
``→ (null)``. In a chain of order *k* a state is the window of the last *k* channels (a path
shorter than *k* is one state: the whole path); consecutive repeats of the same state are
collapsed (a self-loop changes no absorption probability). Transition probabilities are the
maximum-likelihood estimates :math:`\\hat p_{ij} = n_{ij} / \\sum_l n_{il}` from the path counts.

With :math:`Q` the transition matrix among the transient states (``(start)`` and the channel
states) and :math:`r_i` the probability of moving from *i* to ``(conversion)``, the expected
numbers of visits from ``(start)`` are :math:`y = (I - Q)^{-T} e_{start}` and the conversion
probability is :math:`P = y^T r` (Kemeny & Snell 1976, *Finite Markov Chains*, th. 3.3.7).
The **removal effect** of channel *c* is

.. math:: RE_c = 1 - P_{-c} / P,

where :math:`P_{-c}` is the conversion probability of the chain in which every state that
contains *c* leads to ``(null)`` (Anderl, Becker, von Wangenheim & Schumann 2016, "Mapping the
customer journey: lessons learned from graph-based online attribution modeling", *IJRM* 33(3)).
Attributed conversions are :math:`C \\cdot RE_c / \\sum_j RE_j` (:math:`C` = observed total
conversions), so the model conserves conversions.

For **value**, every conversion carries the mean value of the conversions whose last state is
the same, so the chain's expected value is :math:`V = y^T (r \\odot \\bar v)`; the value removal
effect is :math:`1 - V_{-c}/V` and attributed value is proportional to it. These are exactly
the quantities the ``ChannelAttribution`` package (Altomare & Loris) estimates by simulating
paths from the same chain (it counts the share of simulated converting paths that visit *c*,
whose expectation is :math:`RE_c`): here they are solved for, so the numbers are exact and
identical from run to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from researchkit.channels._paths import EncodedPaths, read_paths
from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["MarkovAttribution", "markov_attribution"]


@dataclass(eq=False)
class MarkovAttribution(Result):
    """Result of :func:`markov_attribution`.

    ``table`` has one row per channel: ``removal_effect``, ``removal_effect_value``,
    ``conversions``, ``value`` and ``share`` (of conversions). ``transitions`` lists every
    estimated transition (``from``, ``to``, ``count``, ``probability``), states written as
    ``"a > b"`` windows.
    """

    transitions: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def removal_effects(self) -> pd.Series:
        """Removal effect of each channel (conversions)."""
        return self.table.set_index("channel")["removal_effect"]

    def transition_matrix(self) -> pd.DataFrame:
        """Row-stochastic transition matrix (states × states incl. absorbing ones).

        Built with :func:`researchkit.markov.transition_matrix` from the transition counts.
        """
        from researchkit.markov import transition_matrix

        states = list(dict.fromkeys(["(start)", *self.transitions["from"],
                                     *self.transitions["to"]]))
        absorbing = [s for s in ("(conversion)", "(null)") if s in states]
        states = [s for s in states if s not in absorbing] + absorbing
        P = transition_matrix(self.transitions, "from", "to", weight="count", states=states)
        for s in absorbing:
            P.loc[s] = 0.0
            P.loc[s, s] = 1.0
        return P


def _states(enc: EncodedPaths, order: int) -> tuple[np.ndarray, np.ndarray, int]:
    """State id of every window, the number of windows of each path, and the packing base.

    A window of the last ``order`` channels is packed into one integer, base ``K + 1``
    (digit 0 = no channel, for paths shorter than the order). A path of length *L* has
    ``max(L - order + 1, 1)`` windows. Consecutive repeats of a state are kept here: they are
    self-transitions, removed from the counts later.
    """
    K = len(enc.channels)
    base = K + 1
    if base ** order >= 2**62:
        raise ParameterError("too many channels for this order (state ids overflow)",
                             parameter="order", got=order)
    lengths = enc.lengths
    sid = enc.codes + 1
    if order == 1:
        return sid, lengths, base
    starts = np.repeat(enc.offsets[:-1], lengths)
    pos = np.arange(len(sid)) - starts
    packed = sid.copy()
    for j in range(1, order):
        packed[j:] += np.where(pos[j:] >= j, sid[:-j], 0) * base**j
    need = np.repeat(np.minimum(order, lengths) - 1, lengths)
    windows = lengths - np.minimum(order, lengths) + 1
    return packed[pos >= need], windows, base


def _compact(sid: np.ndarray, base: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct state ids (sorted) and each window's index into them."""
    size = base**order
    if size <= 50_000_000:
        present = np.zeros(size, dtype=bool)
        present[sid] = True
        uniq = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        return uniq, lookup[sid]
    uniq, inv = np.unique(sid, return_inverse=True)
    return uniq, inv.ravel().astype(np.int64)


def _decode(states: np.ndarray, order: int, base: int, channels: list[str],
            sep: str = " > ") -> tuple[np.ndarray, list[str]]:
    """Digits (oldest first) of packed states and their names."""
    digits = np.stack([(states // base**j) % base for j in range(order)][::-1], axis=1)
    names = [sep.join(channels[d - 1] for d in row if d > 0) for row in digits]
    return digits, names


def markov_attribution(
    journeys: Any,
    order: int = 1,
    *,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
) -> MarkovAttribution:
    """Attribute conversions (and value) to channels with an order-*k* Markov chain.

    Parameters
    ----------
    journeys : DataFrame or Journeys
        One row per journey or per unique path: ``path`` as a list of channels or an
        ``"a > b > c"`` string, ``conversions`` and, for a unique-path table, ``nulls`` (paths
        that did not convert) and optionally ``value`` (total conversion value of the row),
        as ChannelAttribution users keep it. Without a ``nulls`` column each row is one journey
        and a row with 0 conversions is a null journey. A
        :class:`~researchkit.channels.journeys.Journeys` object is used as its path table.
    order : int
        Markov order, 1 to 4.
    path, conversions, nulls, value : str
        Column names. ``nulls`` and ``value`` are optional columns: when absent under their
        default names, rows are journeys / value is not attributed.
    sep : str
        Separator of string paths (spaces around channel names are ignored).

    Returns
    -------
    MarkovAttribution
        ``estimate``: attributed conversions per channel; ``table`` per channel; ``details``:
        ``conversion_probability``, ``n_states``, ``total_conversions``, ``total_value``...;
        ``transitions``: the estimated chain.

    Notes
    -----
    See the module docstring for the formulas. Every linear system is solved with a sparse
    LU factorisation (``scipy.sparse.linalg.splu``); nothing is simulated, so results do not
    depend on a seed.

    References
    ----------
    Anderl, E., Becker, I., von Wangenheim, F., & Schumann, J. H. (2016). Mapping the customer
    journey: Lessons learned from graph-based online attribution modeling. *International
    Journal of Research in Marketing*, 33(3), 457-474.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["a > b", "b", "a > c > b", "c"],
    ...                       "conversions": [10, 5, 3, 0], "nulls": [5, 10, 2, 8]})
    >>> res = markov_attribution(paths)
    >>> res.removal_effects.round(4).to_dict()
    {'a': 0.4835, 'b': 1.0, 'c': 0.1429}
    """
    from scipy import sparse
    from scipy.sparse.linalg import splu

    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 1 <= order <= 4:
        raise ParameterError("invalid Markov order", parameter="order",
                             expected="an integer from 1 to 4", got=order)
    order = int(order)
    enc = read_paths(journeys, path=path, conversions=conversions, nulls=nulls, value=value,
                     sep=sep)
    K = len(enc.channels)
    weight = enc.conversions + enc.nulls
    total_conv = float(enc.conversions.sum())
    total_value = float(enc.value.sum()) if enc.has_value else float("nan")
    if total_conv <= 0:
        raise DataError("no conversions in the journeys: nothing to attribute",
                        column=conversions)

    sid, windows, base = _states(enc, order)
    if order == 1:
        uniq = np.arange(1, K + 1, dtype=np.int64)  # state ids are the channel codes + 1
        state = sid
    else:
        uniq, inv = _compact(sid, int(base), order)
        state = inv + 1                            # 0 = (start), 1..m channel states
    m = len(uniq)
    CONV, NULL = m + 1, m + 2
    ends = np.cumsum(windows)
    first_idx, last_idx = ends - windows, ends - 1
    prev = np.empty_like(state)
    prev[1:] = state[:-1]
    prev[first_idx] = 0                            # every path starts at (start)
    w_touch = np.repeat(weight, windows)
    last_state = state[last_idx]
    width = m + 3
    if (m + 1) * width <= 20_000_000:
        flat = np.bincount(prev * width + state, weights=w_touch, minlength=(m + 1) * width)
        flat[np.arange(1, m + 1) * (width + 1)] = 0.0   # repeats of a state: no transition
        flat += np.bincount(last_state * width + CONV, weights=enc.conversions,
                            minlength=(m + 1) * width)
        flat += np.bincount(last_state * width + NULL, weights=enc.nulls,
                            minlength=(m + 1) * width)
        counts = sparse.csr_matrix(flat.reshape(m + 1, width))
    else:
        rows = np.concatenate([prev, last_state, last_state])
        cols = np.concatenate([state, np.full(len(last_state), CONV),
                               np.full(len(last_state), NULL)])
        wts = np.concatenate([w_touch, enc.conversions, enc.nulls])
        nz = (wts > 0) & (rows != cols)
        counts = sparse.coo_matrix((wts[nz], (rows[nz], cols[nz])),
                                   shape=(m + 1, width)).tocsr()
        counts.sum_duplicates()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    # a state is left at least once unless it only occurs on rows with no journeys
    inv_tot = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    P = sparse.diags(inv_tot) @ counts
    Q = P[:, : m + 1].tocsr()
    r = np.asarray(P[:, CONV].todense()).ravel()
    conv_from = np.bincount(last_state, weights=enc.conversions, minlength=m + 1)
    value_from = np.bincount(last_state, weights=enc.value, minlength=m + 1)
    vbar = np.divide(value_from, conv_from, out=np.zeros(m + 1), where=conv_from > 0)
    rv = r * vbar

    digits, names = _decode(uniq, order, int(base), enc.channels)
    e0 = np.zeros(m + 1)
    e0[0] = 1.0
    eye = sparse.identity(m + 1, format="csc")

    def solve(keep_rows: np.ndarray | None) -> tuple[float, float]:
        Qc = Q if keep_rows is None else sparse.diags(keep_rows.astype(float)) @ Q
        y = splu((eye - Qc).T.tocsc()).solve(e0)
        kr = 1.0 if keep_rows is None else keep_rows
        return float(y @ (r * kr)), float(y @ (rv * kr))

    p_full, v_full = solve(None)
    re = np.zeros(K)
    re_v = np.zeros(K)
    for c in range(K):
        contains = np.concatenate([[False], (digits == c + 1).any(axis=1)])
        p_c, v_c = solve(~contains)
        re[c] = 1.0 - p_c / p_full
        re_v[c] = 1.0 - v_c / v_full if v_full > 0 else 0.0
    re = np.where(np.abs(re) < 1e-12, 0.0, re)
    re_v = np.where(np.abs(re_v) < 1e-12, 0.0, re_v)
    attributed = total_conv * re / re.sum()
    if enc.has_value and re_v.sum() > 0:
        attributed_value = total_value * re_v / re_v.sum()
    else:
        attributed_value = np.full(K, np.nan if not enc.has_value else 0.0)
    table = pd.DataFrame({
        "channel": enc.channels,
        "removal_effect": re,
        "removal_effect_value": re_v if enc.has_value else np.nan,
        "conversions": attributed,
        "value": attributed_value,
        "share": attributed / total_conv,
    })

    state_names = np.array(["(start)", *names, "(conversion)", "(null)"], dtype=object)
    coo = counts.tocoo()
    transitions = pd.DataFrame({
        "from": state_names[coo.row], "to": state_names[coo.col], "count": coo.data,
        "probability": coo.data * inv_tot[coo.row],
    }).sort_values(["from", "to"], kind="stable", ignore_index=True)
    return MarkovAttribution(
        name=f"Markov attribution (order {order})",
        estimate=dict(zip(enc.channels, attributed.tolist(), strict=True)),
        method=(
            f"Markov chain of order {order} over channel states (windows of the last {order} "
            "channel(s); consecutive repeats of a state collapsed), with (start), (conversion) "
            "and (null) states and maximum-likelihood transition probabilities from "
            f"{int((weight > 0).sum())} paths ({enc.source}). Removal effects solved exactly from "
            "the absorbing chain (sparse LU of I - Q for the full chain and for each channel "
            "with its states redirected to (null)); attributed conversions and value "
            "proportional to the removal effects, summing to the observed totals. Value per "
            "conversion taken as the mean value of conversions from the same last state."
        ),
        n=round(weight.sum()),
        table=table,
        details={
            "order": order, "n_channels": K, "n_states": m, "n_paths": int((weight > 0).sum()),
            "conversion_probability": p_full, "expected_value_per_journey":
            v_full if enc.has_value else None, "total_conversions": total_conv,
            "total_value": total_value if enc.has_value else None,
        },
        reference=("Anderl, Becker, von Wangenheim & Schumann (2016), IJRM 33(3) 457-474; "
                   "Kemeny & Snell (1976) Finite Markov Chains"),
        transitions=transitions,
    )
