"""Report narrative for each research design of the causal-impact notebook.

The notebook runs one design, chosen by its ``design`` parameter; its report should explain
that design only. :func:`design_narrative` returns the Markdown section (heading + what the
design does, its assumptions and checks) for display in the notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from researchkit.errors import ParameterError

if TYPE_CHECKING:
    from IPython.display import Markdown

__all__ = ["DESIGN_NARRATIVES", "design_narrative"]

DESIGN_NARRATIVES: dict[str, str] = {
    "did": """## Difference-in-differences

The change in campaign regions minus the change in control regions, with store and week fixed
effects; standard errors are clustered by region, because stores in a region share shocks
(Bertrand, Duflo & Mullainathan 2004). With few regions the t-test uses G − 1 degrees of
freedom, and the result warns that few clusters make p-values fragile. The pre-trend check
tests the event-study leads jointly; with few (treated) regions the analytic test
over-rejects, so its p-value comes from a wild cluster bootstrap.""",
    "event_study": """## Event study

One coefficient per week relative to launch (week −1 is the reference). Coefficients before
launch ("leads") test parallel trends and anticipation; after launch they show how the effect
builds up or fades. A non-significant pre-trend test does not prove parallel trends (Roth
2022): look at the plot too.""",
    "staggered": """## Staggered roll-out

When regions launch in waves, the usual two-way fixed-effects regression compares late
launchers with regions that are *already* treated; if the effect grows over time, those
comparisons are biased and some treated weeks even get negative weight. The Goodman-Bacon
decomposition shows where the TWFE number comes from; the Callaway & Sant'Anna estimator
compares each wave only with regions not (yet) treated, and aggregates the wave-by-week
effects.""",
    "synthetic_control": """## Synthetic control

Sales are averaged to regions. A weighted average of control regions (weights ≥ 0, summing to
one) is fitted to the campaign regions' sales before launch; after launch the gap between
actual and synthetic sales is the effect. Inference is by placebos: every control region is
treated as if it had the campaign, and the campaign regions' post/pre fit ratio is ranked
among them.""",
    "its": """## Interrupted time series

The campaign regions' average weekly sales form one series; the control regions' average is a
regressor that carries the common demand shocks. A structural time-series model (local level +
regression) fitted on the weeks before launch forecasts what sales would have been without the
campaign; actual minus forecast is the pointwise effect, summed over the campaign weeks the
cumulative effect, both with intervals. The intervals integrate over the uncertainty of the
model's variances (as the Bayesian CausalImpact does), not only over the noise, so they keep
close to their nominal coverage with a short pre-period. A classic segmented regression (level
and slope change, Newey–West errors) is a cross-check.""",
}


def design_narrative(design: str) -> Markdown:
    """The report section (Markdown) explaining one research design.

    Parameters
    ----------
    design : {"did", "event_study", "staggered", "synthetic_control", "its"}

    Returns
    -------
    IPython.display.Markdown
        Heading and explanation of the design, for ``display`` in a notebook.
    """
    from IPython.display import Markdown

    if not isinstance(design, str) or design not in DESIGN_NARRATIVES:
        raise ParameterError("unknown research design", parameter="design",
                             expected=f"one of {list(DESIGN_NARRATIVES)}", got=design)
    return Markdown(DESIGN_NARRATIVES[design])
