"""Panel figures: they draw what the results hold and refuse other objects."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import researchkit.datasets as ds
from researchkit import panel
from researchkit.errors import ParameterError
from researchkit.plots import save_figure


@pytest.fixture(scope="module")
def sim():
    return ds.brand_panel(n=300, waves=4, seed=1)


def test_figures_draw_the_results(sim, run_dir):
    df = sim.data
    att = panel.attrition_table(df)
    fig = panel.plot_retention(att)
    bars = fig.axes[0].patches
    assert [b.get_height() for b in bars] == att.table["n_respondents"].tolist()
    sm = panel.switching_matrix(df, "brand")
    fig2 = panel.plot_switching(sm, sim.truth["switching"])
    assert len(fig2.axes) == 2
    flows = panel.gains_losses(df, "brand")
    fig3 = panel.plot_gains_losses(flows)
    heights = [b.get_height() for b in fig3.axes[0].patches]
    np.testing.assert_allclose(heights[:4], flows.table["gained"])
    fc = panel.markov_forecast(df, "brand", n_boot=30, seed=1, periods=2)
    fig4 = panel.plot_forecast(fc, panel.brand_shares(df, "brand"))
    assert len(fig4.axes[0].lines) >= 3 * 4
    paths = save_figure(fig4, "forecast")
    assert paths[0].is_file()
    plt.close("all")


def test_figures_refuse_other_objects(sim):
    sm = panel.switching_matrix(sim.data, "brand")
    with pytest.raises(ParameterError, match="SwitchingFlows"):
        panel.plot_gains_losses(sm)
    with pytest.raises(ParameterError, match="MarkovForecast"):
        panel.plot_forecast(sm)
    with pytest.raises(ParameterError, match="attrition_table"):
        panel.plot_retention(sm)


def test_brand_shares(sim):
    shares = panel.brand_shares(sim.data, "brand", weight="weight")
    np.testing.assert_allclose(shares.sum(axis=1), 1)
    w1 = sim.data.query("wave == 1")
    expected = w1.groupby("brand")["weight"].sum() / w1["weight"].sum()
    np.testing.assert_allclose(shares.loc[1, expected.index], expected)
