"""Sizing specs: loading, the Python builder, and one SpecError listing every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from researchkit.datasets import sizing_example_path
from researchkit.errors import SpecError
from researchkit.sizing import (
    PERT,
    Interval,
    SizingSpecBuilder,
    load_sizing_spec,
    parse_sizing_spec,
    sizing_spec_from_dict,
)

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
title: Test market
currency: EUR
unit: order
as_of: 2026-01-01
inputs:
  households: {value: 1000, kind: count, source: Census, source_date: 2025-01-01}
  share: {dist: pert, low: 0.1, mode: 0.2, high: 0.4, kind: share, source: Survey}
  orders: {dist: interval, low: 10, high: 30, kind: rate, source: Survey}
  basket: {dist: triangular, low: 40, mode: 50, high: 70, kind: price, source: Shop check}
correlations:
  - {inputs: [share, orders], rho: 0.3}
top_down:
  tam: households * orders
  sam: tam * share
  price: basket
bottom_up:
  measure: money
  sam: [households, share, orders, basket]
  price: basket
"""


def test_example_spec_loads_and_lists_outputs():
    spec = load_sizing_spec(sizing_example_path())
    assert spec.title.startswith("Online grocery")
    assert set(spec.chains) == {"top_down", "bottom_up"}
    assert "top_down.som.money" in spec.outputs()
    assert "bottom_up.sam.units" in spec.outputs()
    assert spec.ramp is not None and spec.ramp.analog == ("Meta-analysis average",)
    assert spec.warnings == ()
    table = spec.inputs_table()
    assert list(table["input"]) == list(spec.inputs)
    assert table["source"].str.len().min() > 0


def test_template_copy_of_the_example_is_identical():
    shipped = sizing_example_path().read_text(encoding="utf-8")
    template = (ROOT / "templates" / "sizing" / "online_grocery.yaml").read_text(encoding="utf-8")
    assert shipped == template


def test_starter_spec_is_valid():
    spec = load_sizing_spec(ROOT / "templates" / "sizing" / "starter.yaml")
    assert set(spec.chains) == {"top_down", "bottom_up"}


def test_good_spec_parses_with_defaults():
    spec = parse_sizing_spec(GOOD)
    assert spec.inputs["households"].is_point
    assert spec.inputs["orders"].distribution.describe().startswith("90% interval")
    assert spec.chains["top_down"].measure == "units"
    assert spec.chains["top_down"].measures == ("units", "money")
    assert spec.outputs() == [
        "top_down.tam.units", "top_down.tam.money", "top_down.sam.units", "top_down.sam.money",
        "bottom_up.sam.units", "bottom_up.sam.money"]
    assert spec.correlations[0].rho == 0.3


def test_one_error_lists_every_problem_with_field_paths_and_lines(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""title: Broken
as_of: 2026-01-01
inputs:
  households: {value: 1000, kind: count, source: Census}
  price: {value: -5, kind: price, source: Shop check}
  share: {dist: uniform, low: 0.2, high: 1.3, kind: share, source: Survey}
  orders: {dist: pert, low: 30, mode: 20, high: 10, kind: rate, source: Survey}
  spend: {dist: normal, mean: 100, kind: money, source: Survey, colour: red}
  undated: {value: 3, source: ""}
correlations:
  - {inputs: [share, nowhere], rho: 0.5}
top_down:
  tam: households * orderz
  sam: tam * share
  som: sam * shar
  price: price
""", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_sizing_spec(bad)
    err = info.value
    fields = {p.field for p in err.problems}
    assert {"inputs.price", "inputs.share", "inputs.orders.low", "inputs.spend.colour",
            "inputs.undated.source", "correlations[0].inputs[1]", "top_down.tam",
            "top_down.som"} <= fields
    assert len(err.problems) >= 8
    messages = {p.field: p.message for p in err.problems}
    assert messages["inputs.price"] == "a price must be 0 or more, got -5"
    assert "must lie in [0, 1]" in messages["inputs.share"]
    assert "below high" in messages["inputs.orders.low"]
    assert "orderz" in messages["top_down.tam"]
    assert "unknown input 'nowhere'" in messages["correlations[0].inputs[1]"]
    lines = {p.field: p.line for p in err.problems}
    assert lines["inputs.price"] == 5 and lines["top_down.tam"] == 13
    text = str(err)
    assert text.startswith(f"{bad}: ") and "problems in this sizing spec" in text


@pytest.mark.parametrize(("patch", "field", "words"), [
    ({"inputs": {"x": {"dist": "lognormal", "mean": 1, "sd": 1, "mu": 0, "source": "s"}}},
     "inputs.x", "exactly one of"),
    ({"inputs": {"tam": {"value": 1, "source": "s"}}}, "inputs.tam", "reserved"),
    ({"inputs": {"bad-name": {"value": 1, "source": "s"}}}, "inputs.bad-name", "identifier"),
    ({"inputs": {"x": {"source": "s"}}}, "inputs.x", "give 'value'"),
    ({"inputs": {"x": {"value": "12", "source": "s"}}}, "inputs.x.value", "number"),
    ({"inputs": {"x": {"dist": "normal", "mean": 0.5, "sd": 0.3, "kind": "share",
                       "source": "s"}}}, "inputs.x", "0.05%"),
    ({"inputs": {"x": {"value": 1, "source": "s", "source_date": "2027-01-01"}}},
     "inputs.x.source_date", "after the spec's as_of"),
    ({"top_down": {"tam": "households * orders", "sam": "som * share", "som": "tam * share"}},
     "top_down.sam", "levels above it"),
    ({"top_down": {"tam": "households * orders", "som": "sam * share"}}, "top_down.som",
     "defines no sam"),
    ({"top_down": {"tam": "households * orders", "price": "tam"}}, "top_down.price",
     "inputs only"),
    ({"top_down": {"tam": "households.real"}}, "top_down.tam", "not allowed"),
    ({"top_down": {"measure": "units"}}, "top_down", "at least one of"),
    ({"correlations": [{"inputs": ["share", "share"], "rho": 0.2}]}, "correlations[0].inputs",
     "itself"),
    ({"correlations": [{"inputs": ["share", "households"], "rho": 0.2}]},
     "correlations[0].inputs[1]", "point value"),
    ({"correlations": [{"inputs": ["share", "orders"], "rho": 1.0}]}, "correlations[0].rho",
     "degenerate"),
    ({"correlations": [{"inputs": ["share", "orders"], "rho": 0.2},
                       {"inputs": ["orders", "share"], "rho": 0.4}]}, "correlations[1]",
     "already correlated"),
    ({"ramp": {"analog": "Flying cars"}}, "ramp.analog", "unknown analog"),
    ({"ramp": {"p": 0.03}}, "ramp", "both p and q"),
    ({"ramp": {"chain": "top_down", "level": "som"}}, "ramp.level", "defines no som"),
])
def test_each_check(patch, field, words):
    import yaml

    data = yaml.safe_load(GOOD)
    for key, value in patch.items():
        if key == "inputs":
            data["inputs"].update(value)
        else:
            data[key] = value
    with pytest.raises(SpecError) as info:
        sizing_spec_from_dict(data)
    problems = {p.field: p.message for p in info.value.problems}
    assert field in problems, problems
    assert words in problems[field]


def test_impossible_correlations_are_reported():
    import yaml

    data = yaml.safe_load(GOOD)
    data["inputs"]["spend"] = {"dist": "uniform", "low": 1, "high": 2, "source": "s"}
    data["correlations"] = [
        {"inputs": ["share", "orders"], "rho": 0.9},
        {"inputs": ["orders", "spend"], "rho": 0.9},
        {"inputs": ["share", "spend"], "rho": -0.9},
    ]
    with pytest.raises(SpecError, match="cannot hold together"):
        sizing_spec_from_dict(data)


def test_no_chain_and_not_a_mapping():
    with pytest.raises(SpecError, match="top_down chain, a bottom_up chain"):
        parse_sizing_spec("title: x\ninputs:\n  a: {value: 1, source: s}\n")
    with pytest.raises(SpecError, match="mapping"):
        parse_sizing_spec("- a\n- b\n")
    with pytest.raises(SpecError, match="malformed YAML") as info:
        parse_sizing_spec("title: x\ninputs: [\n")
    assert info.value.line is not None


def test_unused_inputs_are_warned_about():
    import yaml

    data = yaml.safe_load(GOOD)
    data["inputs"]["spare"] = {"value": 2, "source": "s"}
    spec = sizing_spec_from_dict(data)
    assert spec.warnings == ("input 'spare' is not used by any chain",)


def test_builder_builds_the_same_spec_as_yaml():
    spec = (SizingSpecBuilder("Test market", currency="EUR", unit="order", as_of="2026-01-01")
            .input("households", 1000, kind="count", source="Census", source_date="2025-01-01")
            .input("share", PERT(0.1, 0.2, 0.4), kind="share", source="Survey")
            .input("orders", Interval(10, 30), kind="rate", source="Survey")
            .input("basket", PERT(40, 50, 70), kind="price", source="Shop check")
            .correlate("share", "orders", 0.3)
            .top_down(tam="households * orders", sam="tam * share", price="basket")
            .bottom_up(sam=["households", "share", "orders", "basket"], measure="money",
                       price="basket")
            .build())
    ref = parse_sizing_spec(GOOD)
    assert spec.outputs() == ref.outputs()
    assert spec.inputs["orders"].distribution == ref.inputs["orders"].distribution
    assert spec.correlations == ref.correlations


def test_builder_errors_are_spec_errors():
    builder = (SizingSpecBuilder("x")
               .input("a", 1.0, source="s", kind="share")
               .input("b", -2.0, source="s", kind="price")
               .top_down(tam="a * c"))
    with pytest.raises(SpecError) as info:
        builder.build()
    assert {p.field for p in info.value.problems} == {"inputs.b", "top_down.tam"}
