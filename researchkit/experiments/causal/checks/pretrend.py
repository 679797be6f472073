"""Pre-trend test: are the event-study leads jointly zero?

For the lead coefficients ``b = (β_{−L}, ..., β_{−2})`` with cluster-robust covariance ``V``::

    W = b' V^{-1} b,    F = W / q  ~  F(q, G − 1),    q = number of leads

(the convention of Stata's ``test`` after a clustered regression; the χ²(q) version is also
reported). For a :class:`~researchkit.experiments.causal.CallawaySantAnna` fit the test uses
the pre-treatment ATT(g,t) and their influence-function covariance, ``W = n · b' V̂^{-1} b ~
χ²(q)``, as the R ``did`` package does.

With few clusters, or few treated clusters, the analytic test over-rejects when several leads
are tested jointly (the clustered covariance of many leads is poorly estimated); a wild cluster
restricted bootstrap (``bootstrap=999``) gives a p-value with much better size (MacKinnon &
Webb 2017).

A large p-value is *not* proof of parallel trends: pre-tests have low power against
trends that matter (Roth 2022). Report the plotted leads with the test.

References
----------
Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel trends.
*American Economic Review: Insights*, 4(3), 305-322.
MacKinnon, J. G., & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster
sizes. *Journal of Applied Econometrics*, 32(2), 233-254.
Roodman, D., MacKinnon, J. G., Nielsen, M. Ø., & Webb, M. D. (2019). Fast and wild: bootstrap
inference in Stata using boottest. *The Stata Journal*, 19(1), 4-60.
Callaway, B., & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. *Journal of Econometrics*, 225(2), 200-230, section 4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["pretrend_test"]


def pretrend_test(design: Any, *, bootstrap: int | None = None, seed: int = 0,
                  leads: int | None = None) -> Result:
    """Joint test that all pre-treatment effects are zero.

    Parameters
    ----------
    design : EventStudy or CallawaySantAnna
        A fitted design.
    bootstrap : int, optional
        Event study only: number of wild cluster restricted bootstrap draws for the p-value
        (recommended with few or few treated clusters, where the analytic F test
        over-rejects badly when several leads are tested jointly).
    seed : int
        Seed of the bootstrap.
    leads : int, optional
        Callaway–Sant'Anna only: test the dynamic (event-time) pre-treatment effects
        ``e = −leads .. −1`` instead of every pre-treatment ATT(g,t).

    Returns
    -------
    Result
        ``estimate`` = the largest absolute lead, ``statistic`` = F (event study) or χ²
        (Callaway–Sant'Anna), ``p_value``; ``table`` the leads.
    """
    from researchkit.experiments.causal.callaway_santanna import CallawaySantAnna
    from researchkit.experiments.causal.event_study import EventStudy

    if isinstance(design, EventStudy):
        names = design.leads_names
        if not names:
            raise DataError("no lead coefficients to test", parameter="leads",
                            expected="an event study with at least one period before e = -1")
        if len(names) >= design.fit.n_clusters:
            raise DataError("as many leads as clusters: the joint test is not defined",
                            parameter="leads",
                            expected=f"fewer than {design.fit.n_clusters} leads "
                            "(EventStudy(..., leads=...))", got=len(names))
        w = design.fit.wald(names)
        table = design.coefficients.loc[[e for e in design.coefficients.index
                                         if e < 0 and e != design.reference]]
        q = w["df1"]
        warnings = []
        p_value = w["p_value"]
        boot_text = ""
        details = {"chi2": w["chi2"], "p_value_chi2": w["p_value_chi2"],
                   "p_value_F": w["p_value"], "df_denominator": w["df2"], "n_leads": q,
                   "n_treated_clusters": design.n_treated_clusters}
        if bootstrap is not None:
            if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 99:
                raise ParameterError("invalid number of bootstrap draws", parameter="bootstrap",
                                     expected="an integer >= 99 (e.g. 999)", got=bootstrap)
            from researchkit.experiments.causal._bootstrap import wild_cluster_wald

            _, p_value = wild_cluster_wald(design._design, names, n_boot=bootstrap, seed=seed)
            details["p_value_bootstrap"] = p_value
            boot_text = (f" p-value from a wild cluster restricted bootstrap ({bootstrap} "
                         f"Rademacher draws by cluster, seed {seed}).")
        elif q >= max(2, design.n_treated_clusters // 2) or q > design.fit.n_clusters / 5:
            warnings.append(
                f"{q} leads tested with {design.fit.n_clusters} clusters "
                f"({design.n_treated_clusters} treated): the analytic cluster-robust Wald test "
                "over-rejects badly in this situation (MacKinnon & Webb 2017); use "
                "bootstrap=999 or fewer leads.")
        method = (f"Joint Wald test of the {q} event-study leads "
                  f"(reference e = {design.reference}) with the cluster-robust covariance: "
                  f"F = W/q ~ F({q}, {w['df2']}); χ²({q}) = {w['chi2']:.3f}.{boot_text} "
                  "A non-significant test does not prove parallel trends (Roth 2022).")
        return Result(name="Pre-trend test (event-study leads jointly zero)",
                      estimate=float(np.abs(table["estimate"]).max()), method=method,
                      p_value=p_value, statistic=w["F"], statistic_name="F",
                      df=float(q), n=design.fit.n, table=table, details=details,
                      warnings=warnings,
                      reference="Roth (2022); MacKinnon & Webb (2017); Roodman et al. (2019)")
    if isinstance(design, CallawaySantAnna):
        if bootstrap is not None:
            raise ParameterError("bootstrap is available for event studies only",
                                 parameter="bootstrap")
        return design.pretrend_test(leads=leads)
    raise ParameterError("expected a fitted EventStudy or CallawaySantAnna", parameter="design",
                         got=type(design).__name__)
