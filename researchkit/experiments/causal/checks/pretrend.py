"""Pre-trend test: are the event-study leads jointly zero?

For the lead coefficients ``b = (β_{−L}, ..., β_{−2})`` with cluster-robust covariance ``V``::

    W = b' V^{-1} b,    F = W / q  ~  F(q, G − 1),    q = number of leads

(the convention of Stata's ``test`` after a clustered regression; the χ²(q) version is also
reported). For a :class:`~researchkit.experiments.causal.CallawaySantAnna` fit the test uses
the pre-treatment ATT(g,t) and their influence-function covariance, ``W = n · b' V̂^{-1} b ~
χ²(q)``, as the R ``did`` package does.

A large p-value is *not* proof of parallel trends: pre-tests have low power against
trends that matter (Roth 2022). Report the plotted leads with the test.

References
----------
Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel trends.
*American Economic Review: Insights*, 4(3), 305-322.
Callaway, B., & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. *Journal of Econometrics*, 225(2), 200-230, section 4.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from researchkit.errors import DataError, ParameterError
from researchkit.results import Result

__all__ = ["pretrend_test"]


def pretrend_test(design: Any) -> Result:
    """Joint test that all pre-treatment effects are zero.

    Parameters
    ----------
    design : EventStudy or CallawaySantAnna
        A fitted design.

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
        w = design.fit.wald(names)
        leads = design.coefficients.loc[[e for e in design.coefficients.index
                                         if e < 0 and e != design.reference]]
        method = (f"Joint Wald test of the {len(names)} event-study leads "
                  f"(reference e = {design.reference}) with the cluster-robust covariance: "
                  f"F = W/q ~ F({w['df1']}, {w['df2']}); χ²({w['df1']}) = {w['chi2']:.3f}, "
                  f"p = {w['p_value_chi2']:.4f}. A non-significant test does not prove "
                  "parallel trends (Roth 2022).")
        return Result(name="Pre-trend test (event-study leads jointly zero)",
                      estimate=float(np.abs(leads["estimate"]).max()), method=method,
                      p_value=w["p_value"], statistic=w["F"], statistic_name="F",
                      df=float(w["df1"]), n=design.fit.n, table=leads,
                      details={"chi2": w["chi2"], "p_value_chi2": w["p_value_chi2"],
                               "df_denominator": w["df2"], "n_leads": w["df1"]},
                      reference="Roth (2022); Freyaldenhoven et al. (2021)")
    if isinstance(design, CallawaySantAnna):
        return design.pretrend_test()
    raise ParameterError("expected a fitted EventStudy or CallawaySantAnna", parameter="design",
                         got=type(design).__name__)
