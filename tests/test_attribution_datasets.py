"""Omnichannel simulators: reproducible, consistent truth, and end-to-end recovery.

End to end: identity stitching, journeys and Markov attribution recover the known channel
shares of the simulated chain; skipping the stitching (one record = one person, as a
multichannel set-up without a shared customer record would count) does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels import (
    build_journeys,
    link_events,
    markov_attribution,
    rule_based_attribution,
    stitch_identities,
)
from researchkit.errors import ParameterError

IDS = {"email": "email", "phone": "phone", "user_id": "user_id",
       "loyalty_card": "loyalty_card", "device_id": "device_id"}


def test_simulators_are_reproducible():
    a = ds.simulate_omnichannel(200, seed=3)
    b = ds.simulate_omnichannel(200, seed=3)
    for key in ("records", "touches", "conversions"):
        pd.testing.assert_frame_equal(a.data[key], b.data[key])
    pd.testing.assert_frame_equal(ds.simulate_channel_paths(5000, seed=1).data,
                                  ds.simulate_channel_paths(5000, seed=1).data)


def test_simulated_data_shape_and_truth():
    sim = ds.simulate_omnichannel(500, seed=2)
    rec, touches, convs = sim.data["records"], sim.data["touches"], sim.data["conversions"]
    assert touches["channel"].nunique() == 10
    assert {"store", "call_centre"} <= set(touches["channel"])
    assert set(convs["kind"]) == {"online", "offline"}
    assert set(touches["record_id"]) <= set(rec["record_id"])
    assert set(convs["record_id"]) <= set(rec["record_id"])
    assert len(convs) == sim.truth["conversions"]
    assert set(sim.truth["person_of_record"]) == set(rec["record_id"])
    shares = pd.Series(sim.truth["attribution_shares"])
    assert shares.sum() == pytest.approx(1.0)
    assert np.allclose(sim.truth["transition"].sum(axis=1), 1.0)


def test_chain_truth_by_hand_for_two_channels():
    spec = {"a": (1.0, 1.0, 0.3, 0.0, "web"), "b": (1.0, 1.0, 0.1, 0.0, "web")}
    chain = ds.channel_chain(spec, drop=0.2)
    # a: conv .3, null .2, -> b .5 ; b: conv .1, null .2, -> a .7; start 1/2 each
    # x_a = .3 + .5 x_b, x_b = .1 + .7 x_a  =>  x_a = .35/.65, x_b = .1 + .7 x_a
    xa = 0.35 / 0.65
    xb = 0.1 + 0.7 * xa
    p = 0.5 * (xa + xb)
    assert chain["conversion_probability"] == pytest.approx(p)
    assert chain["removal_effects"]["a"] == pytest.approx(1 - 0.5 * 0.1 / p)
    assert chain["removal_effects"]["b"] == pytest.approx(1 - 0.5 * 0.3 / p)


def test_stitching_journeys_and_markov_recover_the_true_channel_shares():
    sim = ds.simulate_omnichannel(2000, seed=7)
    truth = pd.Series(sim.truth["attribution_shares"])
    st = stitch_identities(sim.data["records"], IDS, record="record_id", source="source")
    touches = link_events(sim.data["touches"], st)
    convs = link_events(sim.data["conversions"], st)
    j = build_journeys(touches, convs, kind="kind")
    shares = markov_attribution(j).table.set_index("channel")["share"]
    err = (shares.drop("(no touch)", errors="ignore") - truth).abs().max()
    # ~700 orders: the sampling SD of a share is about 0.01
    assert err < 0.05
    # without stitching (each record its own "client") the journeys are cut apart
    raw_t = sim.data["touches"].assign(person_id=sim.data["touches"]["record_id"])
    raw_c = sim.data["conversions"].assign(person_id=sim.data["conversions"]["record_id"])
    raw = markov_attribution(build_journeys(raw_t, raw_c)).table.set_index("channel")["share"]
    raw_err = (raw.drop("(no touch)", errors="ignore") - truth).abs().max()
    assert raw_err > 2 * err
    # last touch over-credits the closing channels (store, call centre)
    last = rule_based_attribution(j, "last_touch").table.set_index("channel")["share"]
    assert last["store"] > truth["store"] + 0.05


def test_simulator_parameter_errors():
    with pytest.raises(ParameterError, match="n_people"):
        ds.simulate_omnichannel(0)
    with pytest.raises(ParameterError, match="conflict_rate"):
        ds.simulate_omnichannel(10, conflict_rate=1.5)
    with pytest.raises(ParameterError, match="drop"):
        ds.channel_chain(drop=0)
    with pytest.raises(ParameterError, match="channels"):
        ds.channel_chain({"a": (1.0, 1.0, 0.9, 0.0, "web"), "b": (1.0, 1.0, 0.1, 0.0, "web")},
                         drop=0.2)


# -- the bulk simulator equals the one-draw-at-a-time reference ---------------------------------
def _same_simulation(a, b) -> None:
    for key in ("records", "touches", "conversions"):
        pd.testing.assert_frame_equal(a.data[key], b.data[key], check_exact=True)
    assert a.truth["person_of_record"] == b.truth["person_of_record"]
    assert list(a.truth["person_of_record"]) == list(b.truth["person_of_record"])
    assert a.description == b.description
    assert a.truth["conflict_identifiers"] == b.truth["conflict_identifiers"]


@pytest.mark.parametrize(("n", "seed", "kwargs"), [
    (1, 0, {}), (3, 5, {}), (700, 2, {}), (2500, 7, {}),
    (1500, 11, {"malformed_rate": 0.3, "conflict_rate": 0.2, "anonymous_rate": 0.5}),
    (1200, 1, {"drop": 0.4, "malformed_rate": 0.0, "conflict_rate": 0.0,
               "anonymous_rate": 0.0}),
])
def test_bulk_simulation_equals_the_scalar_reference(n, seed, kwargs):
    """The records are built from the generator's raw output in bulk; the data (and the
    generator's state afterwards) are exactly those of drawing one value at a time."""
    import _attribution_reference as ref

    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    _same_simulation(ds.simulate_omnichannel(n, seed=a, **kwargs),
                     ref.simulate_omnichannel(n, seed=b, **kwargs))
    assert a.bit_generator.state == b.bit_generator.state


def test_bulk_simulation_with_other_systems_generators_and_states(monkeypatch):
    import _attribution_reference as ref

    import researchkit.datasets.channels as sim_module

    custom = dict(ds.OMNICHANNEL_CHANNELS)
    custom["partner"] = (0.1, 0.1, 0.05, 0.3, "partner_portal")   # systems without ids
    custom["kiosk"] = (0.05, 0.1, 0.05, 0.0, "kiosk")
    _same_simulation(ds.simulate_omnichannel(900, seed=4, channels=custom),
                     ref.simulate_omnichannel(900, seed=4, channels=custom))
    # another bit generator: the one-at-a-time version is used
    a, b = (np.random.Generator(np.random.MT19937(3)) for _ in range(2))
    _same_simulation(ds.simulate_omnichannel(600, seed=a), ref.simulate_omnichannel(600, seed=b))
    assert (a.random(3) == b.random(3)).all()
    # a generator holding half of a 32-bit draw already
    a, b = np.random.default_rng(2), np.random.default_rng(2)
    a.integers(0, 5)
    b.integers(0, 5)
    _same_simulation(ds.simulate_omnichannel(600, seed=a), ref.simulate_omnichannel(600, seed=b))
    assert a.bit_generator.state == b.bit_generator.state
    # when the bulk reading gives up (a 32-bit draw of 0 would be drawn again), the
    # one-at-a-time version takes over from the same state
    calls = []
    bulk = sim_module._records_in_bulk

    def gives_up(rng, **kwargs):
        state = rng.bit_generator.state
        bulk(rng, **kwargs)
        calls.append(1)
        rng.bit_generator.state = state
        return None

    monkeypatch.setattr(sim_module, "_records_in_bulk", gives_up)
    _same_simulation(ds.simulate_omnichannel(500, seed=9), ref.simulate_omnichannel(500, seed=9))
    assert calls == [1]
