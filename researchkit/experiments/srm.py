"""Sample-ratio mismatch (SRM): are the arms as large as the design said they would be?

An SRM means units were lost or added unevenly between arms (a redirect that fails on some
browsers, bots filtered in one arm only, a logging bug). The effect estimates are then
biased whatever their p-values say, so the check comes **first** and a failure is loud.

The test is Pearson's chi-square goodness of fit of the observed arm counts to the expected
split (Fabijan et al. 2019); a small threshold (0.001 by default) keeps false alarms rare
because the check runs on every experiment.

References
----------
Fabijan, A., Gupchup, J., Gupta, S., Omhover, J., Qin, W., Vermeer, L. & Dmitriev, P. (2019).
Diagnosing sample ratio mismatch in online controlled experiments: a taxonomy and rules of
thumb for practitioners. KDD '19.
Kohavi, Tang & Xu (2020), Trustworthy Online Controlled Experiments, ch. 21.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from researchkit.errors import ParameterError
from researchkit.experiments._checks import check_alpha
from researchkit.results import Result

__all__ = ["SRMResult", "SampleRatioMismatchWarning", "srm_check"]


class SampleRatioMismatchWarning(UserWarning):
    """The arm sizes do not match the planned split: the experiment's results are suspect."""


@dataclass(eq=False)
class SRMResult(Result):
    """SRM check; ``mismatch`` is True when the p-value is below the threshold."""

    mismatch: bool = False


def _expected(arms: Sequence[Any], expected: Mapping[Any, float] | Sequence[float] | None
              ) -> dict[Any, float]:
    import math

    if expected is None:
        return {a: 1.0 / len(arms) for a in arms}
    if isinstance(expected, Mapping):
        unknown = [a for a in expected if a not in arms]
        missing = [a for a in arms if a not in expected]
        if unknown or missing:
            raise ParameterError("the expected split must name every arm, and only them",
                                 parameter="expected", expected=f"keys {list(arms)}",
                                 got=list(expected))
        weights = {a: expected[a] for a in arms}
    else:
        if isinstance(expected, str) or len(expected) != len(arms):
            raise ParameterError("one expected share per arm", parameter="expected",
                                 expected=f"{len(arms)} numbers (arms {list(arms)})",
                                 got=expected)
        weights = dict(zip(arms, expected, strict=True))
    for a, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) \
                or w <= 0:
            raise ParameterError("expected shares must be positive numbers",
                                 parameter="expected", got={a: w})
    total = float(sum(weights.values()))
    return {a: w / total for a, w in weights.items()}


def srm_check(counts: Mapping[Any, int], expected: Mapping[Any, float] | Sequence[float] |
              None = None, *, alpha: float = 0.001, warn: bool = True,
              label: str = "") -> SRMResult:
    """Chi-square test that the arm counts match the planned split.

    Parameters
    ----------
    counts : dict
        ``arm -> number of units`` (e.g. ``stats.counts()``).
    expected : dict or sequence, optional
        Planned share (or weight) of each arm; default an equal split. Weights are
        normalised, so ``{"control": 1, "treatment": 1}`` is a 50/50 split.
    alpha : float
        Threshold below which the mismatch is declared (default 0.001).
    warn : bool
        Also emit a :class:`SampleRatioMismatchWarning` when a mismatch is found.
    label : str
        What was checked (e.g. "device = mobile"), for the messages.

    Returns
    -------
    SRMResult
        ``statistic`` = chi-square, ``df`` = arms − 1, ``p_value``, ``mismatch``; ``table``
        with observed and expected counts and shares per arm.

    Notes
    -----
    ``χ² = Σ (O_i − E_i)² / E_i`` with ``E_i = N · share_i``, referred to a chi-square with
    ``k − 1`` degrees of freedom (as ``scipy.stats.chisquare``).

    Examples
    --------
    >>> srm_check({"control": 50_000, "treatment": 48_900}).mismatch
    True
    """
    import pandas as pd
    from scipy.special import chdtrc

    alpha = check_alpha(alpha)
    if not isinstance(counts, Mapping) or len(counts) < 2:
        raise ParameterError("need the unit counts of at least two arms", parameter="counts",
                             got=counts)
    arms = list(counts)
    for a in arms:
        c = counts[a]
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ParameterError("counts must be integers >= 0", parameter="counts",
                                 got={a: c})
    shares = _expected(arms, expected)
    total = sum(int(counts[a]) for a in arms)
    if total == 0:
        raise ParameterError("no units at all", parameter="counts", got=counts)
    exp = [total * shares[a] for a in arms]
    obs = [int(counts[a]) for a in arms]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(obs, exp, strict=True))
    df = len(arms) - 1
    p = float(chdtrc(df, chi2))
    mismatch = p < alpha
    table = pd.DataFrame({
        "arm": arms, "observed": obs, "expected": exp,
        "observed_share": [o / total for o in obs], "expected_share": [shares[a] for a in arms],
    })
    where = f" ({label})" if label else ""
    warns = []
    if mismatch:
        worst = max(range(len(arms)), key=lambda i: abs(obs[i] - exp[i]) / exp[i] ** 0.5)
        msg = (f"SAMPLE RATIO MISMATCH{where}: arm sizes {dict(zip(arms, obs, strict=True))} do "
               f"not match the planned split (chi-square p = {p:.2g} < {alpha:g}); arm "
               f"{arms[worst]!r} is off by {obs[worst] - exp[worst]:+,.0f} units. Units were "
               "lost or added unevenly, so every effect estimate of this experiment may be "
               "biased: find the cause before trusting any result.")
        warns.append(msg)
        if warn:
            warnings.warn(msg, SampleRatioMismatchWarning, stacklevel=2)
    method = (f"Pearson chi-square goodness-of-fit test of the arm counts against the planned "
              f"split {', '.join(f'{a}: {shares[a]:.4g}' for a in arms)}; mismatch declared "
              f"when p < {alpha:g}")
    return SRMResult(
        name=f"Sample-ratio mismatch check{where}", estimate={str(a): o for a, o in
                                                             zip(arms, obs, strict=True)},
        method=method, p_value=p, statistic=chi2, statistic_name="chi-square", df=df, n=total,
        table=table, details={"alpha": alpha, "mismatch": mismatch}, warnings=warns,
        reference="Fabijan et al. (2019), KDD; Kohavi, Tang & Xu (2020), ch. 21",
        mismatch=mismatch)
