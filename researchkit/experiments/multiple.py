"""Corrections for multiple comparisons (several arms and metrics).

A thin, explicit layer over ``statsmodels.stats.multitest.multipletests`` (which implements the
procedures; we do not re-implement them) that also says in words which correction was applied
and to which family of tests.

* ``"holm"`` — Holm (1979) step-down: controls the family-wise error rate (FWER);
* ``"bonferroni"`` — Bonferroni: FWER, more conservative than Holm;
* ``"fdr_bh"`` — Benjamini & Hochberg (1995): controls the false discovery rate (FDR);
* ``"none"`` — no correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from researchkit.errors import ParameterError
from researchkit.experiments._checks import check_alpha

__all__ = ["CORRECTIONS", "adjust_pvalues", "correction_text"]

CORRECTIONS = {
    "none": "no correction",
    "bonferroni": "Bonferroni (family-wise error rate)",
    "holm": "Holm step-down (family-wise error rate)",
    "fdr_bh": "Benjamini–Hochberg (false discovery rate)",
}
_ALIASES = {"bh": "fdr_bh", "benjamini-hochberg": "fdr_bh", "benjamini_hochberg": "fdr_bh"}


def _method(method: Any) -> str:
    m = _ALIASES.get(method, method) if isinstance(method, str) else method
    if m not in CORRECTIONS:
        raise ParameterError("unknown correction", parameter="correction",
                             expected=f"one of {list(CORRECTIONS)} (or 'bh')", got=method)
    return m


def adjust_pvalues(p_values: Sequence[float], method: str = "holm", *, alpha: float = 0.05
                   ) -> tuple[list[float], list[bool]]:
    """Adjusted p-values and rejection decisions for one family of tests.

    Parameters
    ----------
    p_values : sequence of float
        Unadjusted p-values (NaN entries are left out of the family and stay NaN).
    method : {"holm", "bonferroni", "fdr_bh", "none"}
        See the module docstring (``"bh"`` is an alias of ``"fdr_bh"``).
    alpha : float
        Family-wise error rate (or FDR) for the decisions.

    Returns
    -------
    (adjusted, reject) : lists
        Adjusted p-values (capped at 1) and ``adjusted <= alpha``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J.
    Statist. 6:65-70. Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery
    rate. JRSS B 57:289-300.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm")[0]
    [0.03, 0.06, 0.06]
    """
    import math

    m = _method(method)
    alpha = check_alpha(alpha)
    ps = [float(p) for p in p_values]
    for p in ps:
        if not (math.isnan(p) or 0.0 <= p <= 1.0):
            raise ParameterError("p-values must lie in [0, 1]", parameter="p_values", got=p)
    keep = [i for i, p in enumerate(ps) if not math.isnan(p)]
    adjusted = [float("nan")] * len(ps)
    reject = [False] * len(ps)
    if not keep:
        return adjusted, reject
    if m == "none":
        vals = [ps[i] for i in keep]
    else:
        from statsmodels.stats.multitest import multipletests

        vals = multipletests([ps[i] for i in keep], alpha=alpha, method=m)[1].tolist()
    for i, v in zip(keep, vals, strict=True):
        adjusted[i] = min(1.0, float(v))
        reject[i] = adjusted[i] <= alpha
    return adjusted, reject


def correction_text(method: str, n_tests: int, scope: str) -> str:
    """Plain words: which correction, over how many tests, and what the family is."""
    m = _method(method)
    if m == "none":
        return f"no correction for multiple comparisons ({n_tests} tests: {scope})"
    return f"{CORRECTIONS[m]} over a family of {n_tests} tests: {scope}"
