"""The common result type, JSON conversion, run folders, figures and tables."""

from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from researchkit import plots
from researchkit.errors import ParameterError
from researchkit.results import Result
from researchkit.run_context import (
    record_results,
    run_dir,
    save_table,
    to_jsonable,
)


def test_result_views():
    table = pd.DataFrame({"arm": ["A", "B"], "rate": [0.1, np.float64(0.12)]})
    r = Result(name="Lift", estimate=0.02, ci=(np.float64(0.001), 0.039), p_value=0.04,
               method="Welch t-test", n=2000, table=table, details={"variance_reduction": 0.3},
               warnings=["sample ratio mismatch"])
    assert r.ci_level == 0.95
    assert r.summary().equals(table) and r.summary() is not table
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["ci"] == [0.001, 0.039] and d["table"][1]["rate"] == 0.12
    html = r._repr_html_()
    assert "Welch t-test" in html and "sample ratio mismatch" in html and "95% interval" in html
    assert "p = 0.0400" in str(r)
    one = Result(name="Alpha", estimate=0.8, method="Cronbach").summary()
    assert one.to_dict("records") == [{"name": "Alpha", "estimate": 0.8}]


def test_to_jsonable_types():
    value = {
        "nan": float("nan"), "inf": np.inf, "i": np.int64(3), "b": np.bool_(True),
        "arr": np.array([1.5, np.nan]), "ts": pd.Timestamp("2026-01-02"),
        "s": pd.Series({"a": 1}), "set": {"b", "a"}, "tuple": (1, 2),
        "df": pd.DataFrame({"x": [1]}, index=pd.Index(["r"], name="row")),
    }
    out = to_jsonable(value)
    assert out["nan"] is None and out["inf"] is None and out["i"] == 3 and out["b"] is True
    assert out["arr"] == [1.5, None] and out["ts"].startswith("2026-01-02")
    assert out["set"] == ["a", "b"] and out["df"] == [{"row": "r", "x": 1}]
    with pytest.raises(ParameterError) as info:
        to_jsonable({"model": {"fit": object()}})
    assert "model.fit" in str(info.value)


def test_record_results_merges(run_dir):
    record_results(a=1)
    record_results({"b": np.float32(0.5)}, c=[1, 2])
    data = json.loads((run_dir / "results.json").read_text())
    assert data == {"a": 1, "b": 0.5, "c": [1, 2]}
    with pytest.raises(ParameterError):
        record_results()


def test_interactive_run_dir_is_new(tmp_path, monkeypatch):
    import researchkit.run_context as rc

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rc, "_interactive_dir", None)
    (tmp_path / "runs" / "interactive").mkdir(parents=True)
    first = run_dir()
    assert first.parent == tmp_path / "runs" / "interactive"
    assert run_dir() == first  # one folder per session


def test_save_figure_and_table(run_dir):
    plots.set_style()
    fig, ax = plots.new_figure()
    ax.bar(["a", "b"], [0.2, 0.5])
    plots.format_axis_percent(ax)
    plots.label_bars(ax)
    paths = plots.save_figure(fig, "shares", formats=("png", "svg"))
    assert [p.name for p in paths] == ["shares.png", "shares.svg"]
    assert repr(paths) == "Saved: figures/shares.png, figures/shares.svg"
    assert "figures/shares.png" in paths._repr_html_()
    assert all(p.parent == run_dir / "figures" and p.stat().st_size > 0 for p in paths)
    plt.close(fig)
    with pytest.raises(ParameterError, match="figure format"):
        plots.save_figure(fig, "x", formats=("gif",))
    with pytest.raises(ParameterError, match="invalid figure name"):
        plots.save_figure(fig, "../escape")
    out = save_table(pd.DataFrame({"x": [1]}), "t", formats=("csv", "xlsx"))
    assert {p.name for p in out} == {"t.csv", "t.xlsx"}
    with pytest.raises(ParameterError, match="plotting context"):
        plots.set_style("huge")
    assert math.isclose(matplotlib.rcParams["savefig.dpi"], 150)
