"""The optimised ``build_journeys`` equals the straightforward reference implementation.

``tests/_attribution_reference.py`` keeps the plain pandas version (``merge_asof`` of touches
onto the next conversion, group-bys per journey). On random touches and conversions with many
ties (same-time touches and conversions, several conversions at one instant), people with only
touches or only conversions, missing campaigns and kinds, text, integer and zero-padded person
ids, both ``no_touch`` settings and several windows, both must return identical journey and
touch tables (values, dtypes, order) and details.
"""

from __future__ import annotations

import _attribution_reference as ref
import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels import build_journeys, link_events, path_table, stitch_identities

CHANNELS = np.array(["search", "email", "store", "(no touch)", "sms", "direct"], dtype=object)


def assert_exact(left, right, **kwargs) -> None:
    pd.testing.assert_frame_equal(left, right, check_exact=True, **kwargs)


def assert_same_journeys(got, expected) -> None:
    assert_exact(got.journeys, expected.journeys, obj="journeys")
    assert_exact(got.touches, expected.touches, obj="touches")
    assert got.details == expected.details
    for collapse in (False, True):
        assert_exact(got.path_table(collapse_repeats=collapse),
                                      ref.path_table(expected, collapse_repeats=collapse))


def _random_events(seed: int, n_people: int = 60, n_touches: int = 400, n_conv: int = 60,
                   ids: str = "padded"):
    rng = np.random.default_rng(seed)
    if ids == "padded":
        names = np.array([f"P{i:04d}" for i in range(n_people)], dtype=object)
    elif ids == "text":
        names = np.array([f"client-{i}" for i in range(n_people)] + ["Zoë", "a", "B"],
                         dtype=object)
    else:
        names = np.arange(n_people) * 3 + 5
    start = pd.Timestamp("2026-01-01")
    # coarse times: many ties between touches, and between touches and conversions
    t_hours = rng.integers(0, 24 * 90, size=n_touches) // 6 * 6
    c_hours = rng.integers(0, 24 * 90, size=n_conv) // 6 * 6
    c_hours[: n_conv // 4] = t_hours[: n_conv // 4]
    touches = pd.DataFrame({
        "person_id": names[rng.integers(0, len(names) - 5, size=n_touches)],
        "timestamp": start + pd.to_timedelta(t_hours, unit="h"),
        "channel": CHANNELS[rng.integers(0, len(CHANNELS), size=n_touches)],
        "campaign": np.where(rng.random(n_touches) < 0.2, None,
                             np.array(["a", "b", "c"], dtype=object)[
                                 rng.integers(0, 3, size=n_touches)]),
        "cost": np.round(rng.random(n_touches), 2),
    })
    conv_people = names[rng.integers(0, len(names), size=n_conv)]
    conv_people[: n_conv // 4] = touches["person_id"].to_numpy()[: n_conv // 4]
    convs = pd.DataFrame({
        "person_id": conv_people,
        "timestamp": start + pd.to_timedelta(c_hours, unit="h"),
        "value": np.round(rng.lognormal(3, 1, size=n_conv), 2),
        "kind": np.where(rng.random(n_conv) < 0.2, None, np.array(
            ["online", "offline"], dtype=object)[rng.integers(0, 2, size=n_conv)]),
    })
    convs = pd.concat([convs, convs.iloc[:3]], ignore_index=True)  # same person, same time
    if ids != "int":
        touches["person_id"] = touches["person_id"].astype("str")
        convs["person_id"] = convs["person_id"].astype("str")
    touches["campaign"] = touches["campaign"].astype("str")
    convs["kind"] = convs["kind"].astype("str")
    return touches, convs


@pytest.mark.parametrize("seed", range(8))
def test_random_journeys_equal_the_reference(seed):
    ids = ["padded", "text", "int"][seed % 3]
    touches, convs = _random_events(seed, ids=ids)
    lookback = ["30D", "7D", "36h", "400D"][seed % 4]
    kwargs = {"lookback": lookback, "kind": "kind", "campaign": "campaign", "cost": "cost"}
    if seed % 2:
        kwargs["no_touch"] = None
    if seed == 6:
        kwargs = {"lookback": lookback}
    assert_same_journeys(build_journeys(touches, convs, **kwargs),
                         ref.build_journeys(touches, convs, **kwargs))


def test_unusual_inputs_equal_the_reference():
    touches, convs = _random_events(11, n_touches=120, n_conv=30)
    cases = [
        (touches, convs.iloc[:0]),                          # no conversions
        (touches.iloc[:0], convs),                          # no touches
        (touches.iloc[:5], convs.iloc[:0]),
        (touches.iloc[:0], convs.iloc[:0]),
        (touches, convs.assign(kind=pd.Series([None] * len(convs), dtype="str"))),
        (touches.assign(campaign=np.nan), convs),
        (touches.assign(campaign=touches["campaign"].astype(object)), convs),
        (touches.assign(timestamp=touches["timestamp"].dt.tz_localize("Europe/Moscow")),
         convs.assign(timestamp=convs["timestamp"].dt.tz_localize("UTC"))),
        (touches.sample(frac=1.0, random_state=2), convs.sample(frac=1.0, random_state=3)),
        # one heavy buyer: many conversions (the per-person binary search)
        (touches.assign(person_id=touches["person_id"].where(
            np.arange(len(touches)) % 3 > 0, "P0001")),
         convs.assign(person_id=convs["person_id"].where(np.arange(len(convs)) % 4 > 0,
                                                         "P0001"))),
    ]
    for t, c in cases:
        for no_touch in ("(no touch)", None):
            kwargs = {"kind": "kind", "campaign": "campaign", "cost": "cost",
                      "no_touch": no_touch}
            assert_same_journeys(build_journeys(t, c, **kwargs),
                                 ref.build_journeys(t, c, **kwargs))


def test_path_tables_of_odd_inputs_equal_the_reference():
    frames = [
        pd.DataFrame({"path": ["b > a", "a", "b > a", None, "", "a > a"],
                      "conversions": [1, 0, 2, 0, 1, 1], "value": [1.5, 0, 0.1, 0, 2, 0.2]}),
        pd.DataFrame({"path": pd.Series(["x", "y", "x"], dtype=object),
                      "conversions": [0.0, 1.0, 1.0]}),
        pd.DataFrame({"path": pd.Series([], dtype="str"), "conversions": []}),
        pd.DataFrame({"path": ["Zoë > b", "b", "Zoë > b"], "conversions": [1, 1, 0],
                      "value": [0.1, 0.2, 0.0]}),
    ]
    rng = np.random.default_rng(5)
    frames.append(pd.DataFrame({
        "path": [" > ".join(rng.choice(["a", "b", "c"], size=rng.integers(1, 4)))
                 for _ in range(3000)],
        "conversions": rng.integers(0, 2, size=3000),
        "value": np.round(rng.lognormal(3, 2, size=3000), 2)}))
    for frame in frames:
        for collapse in (False, True):
            try:
                expected = ref.path_table(frame, collapse_repeats=collapse)
            except AttributeError:  # a missing path cannot be collapsed
                with pytest.raises(AttributeError):
                    path_table(frame, collapse_repeats=collapse)
                continue
            assert_exact(path_table(frame, collapse_repeats=collapse),
                                          expected)


def test_simulated_pipeline_equals_the_reference():
    sim = ds.simulate_omnichannel(1500, seed=9)
    ids = {k: k for k in ["email", "phone", "user_id", "loyalty_card", "device_id"]}
    st = stitch_identities(sim.data["records"], ids, record="record_id", source="source")
    touches = link_events(sim.data["touches"], st)
    convs = link_events(sim.data["conversions"], st)
    for kwargs in ({"kind": "kind", "campaign": "campaign", "cost": "cost"},
                   {"lookback": "10D", "no_touch": None}):
        assert_same_journeys(build_journeys(touches, convs, **kwargs),
                             ref.build_journeys(touches, convs, **kwargs))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rule_inputs_from_touches_equal_the_plain_pandas_version(seed):
    """Rule-based models read the touch table with integer codes; the same arrays come out
    as from the plain pandas version (used for unusual tables, e.g. object channels)."""
    from researchkit.channels import compare_models
    from researchkit.channels.rules import _long

    touches, convs = _random_events(seed, ids=["padded", "text", "int"][seed])
    j = build_journeys(touches, convs, kind="kind")
    plain = type(j)(journeys=j.journeys,
                    touches=j.touches.assign(channel=j.touches["channel"].astype(object)),
                    details=j.details)
    fast = _long(j, path="path", conversions="conversions", value="value", sep=">",
                 need_time=True)
    slow = _long(plain, path="path", conversions="conversions", value="value", sep=">",
                 need_time=True)
    assert fast["channels"] == slow["channels"]
    for key in ("code", "journey", "position", "n", "days", "conv", "value"):
        np.testing.assert_array_equal(fast[key], slow[key])
    assert_exact(compare_models(j).table, compare_models(plain).table)
