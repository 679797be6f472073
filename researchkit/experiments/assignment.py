"""Deterministic assignment of units to arms by hashing, and a balance check.

A unit's arm is a pure function of ``(salt, unit id)``: the same user always lands in the same
arm (on every device and server, with no assignment table to store), and a new salt per
experiment makes the assignments of different experiments independent.

Method: ``h = SHA-256(salt + ":" + str(unit_id))``; its first 8 bytes as an unsigned integer
give a bucket ``u = h / 2**64`` uniform on [0, 1); the arm is the first whose cumulative weight
exceeds ``u``. SHA-256 is in Python's standard library and stable across platforms and
versions, unlike ``hash()``.

References
----------
Kohavi, R., Longbotham, R., Sommerfield, D. & Henne, R. M. (2009). Controlled experiments on
the web: survey and practical guide. Data Mining and Knowledge Discovery 18:140-181 (§4.1,
hash-based randomisation). Kohavi, Tang & Xu (2020), ch. 4 and 21.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from researchkit.errors import DataError, ParameterError
from researchkit.experiments.srm import srm_check
from researchkit.results import Result

__all__ = ["assign", "balance_check", "hash_unit"]

_TWO64 = float(2**64)


def hash_unit(unit_id: Any, salt: str) -> float:
    """Uniform bucket in [0, 1) of one unit: ``SHA-256(salt:id)[:8] / 2**64``.

    Examples
    --------
    >>> hash_unit("user-1", "exp-2026-05") == hash_unit("user-1", "exp-2026-05")
    True
    """
    if not isinstance(salt, str) or not salt:
        raise ParameterError("the salt must be a non-empty string (one per experiment)",
                             parameter="salt", got=salt)
    key = f"{salt}:{_id_text(unit_id)}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / _TWO64


def _id_text(unit_id: Any) -> str:
    import numpy as np

    if isinstance(unit_id, np.generic):
        unit_id = unit_id.item()
    if unit_id is None or (isinstance(unit_id, float) and unit_id != unit_id):
        raise DataError("a unit id is missing", parameter="ids")
    if isinstance(unit_id, float) and unit_id.is_integer():
        unit_id = int(unit_id)  # 12.0 and 12 are the same user
    return str(unit_id)


def _weights(arms: Sequence[Any], weights: Sequence[float] | None) -> list[float]:
    import math

    if isinstance(arms, str) or len(arms) < 2 or len(set(arms)) != len(arms):
        raise ParameterError("need at least two distinct arms", parameter="arms", got=arms)
    if weights is None:
        return [1.0 / len(arms)] * len(arms)
    if isinstance(weights, str) or len(weights) != len(arms) or any(
            isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w)
            or w <= 0 for w in weights):
        raise ParameterError("one positive weight per arm", parameter="weights",
                             expected=f"{len(arms)} positive numbers", got=weights)
    total = float(sum(weights))
    return [w / total for w in weights]


def assign(ids: Iterable[Any], *, salt: str, arms: Sequence[Any] = ("control", "treatment"),
           weights: Sequence[float] | None = None) -> Any:
    """Arm of each unit, deterministically from its id and the experiment's salt.

    Parameters
    ----------
    ids : iterable (list, array, Series)
        Unit ids (users); converted to text, so ``12`` and ``"12"`` get the same arm.
    salt : str
        One salt per experiment (e.g. ``"checkout-redesign-2026-05"``).
    arms : sequence
        Arm names.
    weights : sequence of float, optional
        Traffic share of each arm (normalised); default equal.

    Returns
    -------
    pandas.Series
        The arm of each unit (categorical, in the order of ``ids``; the index of ``ids`` is
        kept when it is a Series).

    Examples
    --------
    >>> assign(["u1", "u2", "u3"], salt="exp-1").tolist()  # doctest: +SKIP
    ['treatment', 'control', 'treatment']
    """
    import bisect

    import numpy as np
    import pandas as pd

    w = _weights(arms, weights)
    cum = list(np.cumsum(w))
    cum[-1] = 1.0
    index = ids.index if isinstance(ids, pd.Series) else None
    values = ids.tolist() if isinstance(ids, pd.Series | np.ndarray) else list(ids)
    codes = np.empty(len(values), dtype=np.int64)
    for i, uid in enumerate(values):
        codes[i] = bisect.bisect_right(cum, hash_unit(uid, salt))
    codes = np.minimum(codes, len(arms) - 1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(arms)), index=index,
                     name="arm")


def balance_check(data: Any, *, arm: str = "arm", covariates: Sequence[str] = (),
                  expected: Mapping[Any, float] | Sequence[float] | None = None,
                  alpha: float = 0.001, smd_threshold: float = 0.1) -> Result:
    """Check an assignment: arm sizes against the split, and pre-period covariate balance.

    Parameters
    ----------
    data : DataFrame
        One row per unit with its arm and pre-assignment covariates.
    arm : str
        Arm column.
    covariates : sequence of str
        Numeric pre-assignment columns (pre-period revenue, sessions...).
    expected : dict or sequence, optional
        Planned split (default equal).
    alpha : float
        Threshold of the sample-ratio chi-square test.
    smd_threshold : float
        Flag covariates whose absolute standardized mean difference exceeds this (0.1 is the
        usual rule of thumb; Austin 2009).

    Returns
    -------
    Result
        ``p_value`` of the sample-ratio test; ``table`` with, per covariate and treatment
        arm, the means, the standardized mean difference
        ``(x̄_t − x̄_c) / sqrt((s_t² + s_c²)/2)`` and Welch's t-test p-value.

    References
    ----------
    Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. Statistics in
    Medicine 28:3083-3107.
    """
    import math

    import pandas as pd
    from scipy import stats as st

    from researchkit.experiments._checks import check_columns

    if not isinstance(data, pd.DataFrame):
        raise ParameterError("expected a DataFrame", parameter="data",
                             got=type(data).__name__)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    check_columns([arm, *covariates], [str(c) for c in data.columns], parameter="covariates")
    if data[arm].isna().any():
        raise DataError("units without an arm", column=arm)
    counts = data[arm].value_counts(sort=False)
    counts = {(k.item() if hasattr(k, "item") else k): int(v) for k, v in counts.items()
              if v > 0}
    from researchkit.experiments.statistics import sort_keys

    arms = sort_keys(counts)
    srm = srm_check({a: counts[a] for a in arms}, expected, alpha=alpha, warn=False)
    control = next((a for a in arms if isinstance(a, str) and a.lower() == "control"),
                   arms[0])
    rows = []
    for cov in covariates:
        col = data[cov]
        if not pd.api.types.is_numeric_dtype(col) or col.isna().any():
            raise DataError("covariates must be numeric with no missing values", column=cov)
        xc = col[data[arm] == control].to_numpy(dtype=float)
        for a in arms:
            if a == control:
                continue
            xt = col[data[arm] == a].to_numpy(dtype=float)
            pooled = math.sqrt((xt.var(ddof=1) + xc.var(ddof=1)) / 2)
            smd = (xt.mean() - xc.mean()) / pooled if pooled > 0 else 0.0
            p = float(st.ttest_ind(xt, xc, equal_var=False).pvalue) if pooled > 0 else 1.0
            rows.append({"covariate": cov, "arm": a, "mean_control": xc.mean(),
                         "mean_arm": xt.mean(), "smd": smd, "p_value": p,
                         "imbalanced": abs(smd) > smd_threshold})
    table = pd.DataFrame(rows, columns=["covariate", "arm", "mean_control", "mean_arm", "smd",
                                        "p_value", "imbalanced"])
    warns = list(srm.warnings)
    warns += [f"covariate {r['covariate']!r} is imbalanced in arm {r['arm']!r} "
              f"(SMD = {r['smd']:.3f})" for r in rows if r["imbalanced"]]
    return Result(
        name="Assignment balance check", estimate=srm.estimate,
        p_value=srm.p_value, statistic=srm.statistic, statistic_name="chi-square", df=srm.df,
        n=sum(counts.values()), table=table,
        method=(srm.method + f"; covariate balance by standardized mean differences "
                f"(flagged above {smd_threshold:g}) and Welch t-tests against {control!r}"),
        details={"srm_mismatch": srm.mismatch, "n_imbalanced": int(table["imbalanced"].sum())
                 if len(table) else 0, "counts": {str(a): counts[a] for a in arms}},
        warnings=warns, reference="Kohavi et al. (2009); Austin (2009)")
