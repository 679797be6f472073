"""The optimised identity stitching equals the straightforward reference implementation.

``tests/_attribution_reference.py`` keeps the plain pandas version of ``stitch_identities`` and
``link_events`` (row-wise normalisation, string group-bys, a bipartite record-identifier graph).
The optimised functions must return exactly the same tables (values, dtypes, order), person ids,
conflict and malformed reports on random inputs: simulated omnichannel records in shuffled
order, and synthetic records drawn from small pools of values (many links, hubs, conflicts),
with numeric, mixed-type and missing identifiers, several columns of one kind and client ids.
"""

from __future__ import annotations

import _attribution_reference as ref
import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels import link_events, stitch_identities
from researchkit.errors import DataError

IDS = {"email": "email", "phone": "phone", "user_id": "user_id",
       "loyalty_card": "loyalty_card", "device_id": "device_id"}


def assert_exact(left, right, **kwargs) -> None:
    pd.testing.assert_frame_equal(left, right, check_exact=True, **kwargs)


def assert_same_stitching(got, expected) -> None:
    for name in ("records", "identifiers", "problems", "conflicts", "people", "table"):
        assert_exact(getattr(got, name), getattr(expected, name),
                                      obj=name)
    assert got.details == expected.details
    assert got.estimate == expected.estimate
    assert got.warnings == expected.warnings
    assert got.method == expected.method
    assert got.n == expected.n


def _both(data, identifiers, **kwargs):
    return stitch_identities(data, identifiers, **kwargs), \
        ref.stitch_identities(data, identifiers, **kwargs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulated_records_in_random_order(seed):
    sim = ds.simulate_omnichannel(700, seed=seed)
    rng = np.random.default_rng(seed)
    rec = sim.data["records"].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    old_ids = rec["record_id"].to_numpy()
    if seed == 1:  # a numeric record id, not sorted
        rec["record_id"] = rng.permutation(len(rec)) * 7 + 100
    if seed == 2:  # ids that are text but not of one width
        rec["record_id"] = [f"id-{i}" for i in rng.permutation(len(rec))]
    got, expected = _both(rec, IDS, record="record_id", source="source",
                          max_links=int(rng.integers(1, 5)))
    assert_same_stitching(got, expected)
    new_id = dict(zip(old_ids, rec["record_id"], strict=True))
    for events in (sim.data["touches"], sim.data["conversions"]):
        events = events.assign(record_id=[new_id[r] for r in events["record_id"]])
        assert_exact(link_events(events, got),
                                      ref.link_events(events, expected))


def _pool_records(n: int, seed: int) -> pd.DataFrame:
    """Records whose identifiers come from small pools, so values are shared a lot."""
    rng = np.random.default_rng(seed)

    def pick(pool, p_missing):
        out = np.array(pool, dtype=object)[rng.integers(0, len(pool), size=n)]
        out[rng.random(n) < p_missing] = None
        return out

    emails = [f"u{i}@{d}" for i in range(n // 3) for d in ("mail.ru", "gmail.com")]
    emails += ["U1@Mail.ru ", "u.1@gmail.com", "u1+x@gmail.com", "bad at mail.ru", "",
               "über@mail.ru", "  ", "x@y"]
    phones = [f"8916{i:07d}" for i in range(n // 4)] + [f"+7 916 {i:07d}" for i in range(30)]
    phones += ["123", "+7916", "call me", "\t89160000001", "8 916 000-00-01"]
    data = pd.DataFrame({
        "rid": [f"R{i:05d}" for i in rng.permutation(n)],
        "src": np.array(["crm", "web", "shop", "app"])[rng.integers(0, 4, size=n)],
        "email": pick(emails, 0.4),
        "email2": pick(emails, 0.8),
        "phone": pick(phones, 0.3),
        "uid": pick([f"U{i}" for i in range(n // 5)] + [" U1 ", "U1.0", "17.0", "-3.0"], 0.5),
        "card": pick([f"{i:06d}" for i in range(n // 6)] + ["000001"] * 5, 0.6),
        "client": pick([str(i) for i in range(n // 2)], 0.2),
    })
    for col in ("email", "email2", "phone", "uid", "card", "client"):
        data[col] = data[col].astype("str")
    return data


@pytest.mark.parametrize("seed", range(6))
def test_pooled_records_with_many_links_and_hubs(seed):
    data = _pool_records(600, seed)
    rng = np.random.default_rng(100 + seed)
    ids = {"email": "email", "email_alt": "email2", "phone": "phone", "user_id": "uid",
           "loyalty_card": "card"}
    kwargs = {"record": "rid", "source": "src", "kinds": {"email_alt": "email"},
              "max_links": int(rng.integers(1, 4)),
              "provider_rules": bool(seed % 2), "default_country": ["RU", "KZ", "BY"][seed % 3]}
    if seed % 3 == 0:
        kwargs["client"] = "client"
    if seed == 4:
        kwargs["person_keys"] = ("phone", "loyalty_card")
        kwargs.pop("record")
    if seed == 5:
        kwargs.pop("source")
    assert_same_stitching(*_both(data, ids, **kwargs))


def test_numeric_mixed_and_empty_identifier_columns():
    rng = np.random.default_rng(7)
    n = 300
    data = pd.DataFrame({
        "rid": rng.permutation(n),
        "src": rng.choice(["a", "b"], size=n),
        "uid": rng.integers(0, 60, size=n),                           # int64
        "card": np.where(rng.random(n) < 0.3, np.nan,
                         rng.integers(0, 40, size=n).astype(float)),  # float with NaN
        "phone": rng.integers(79160000000, 79160000050, size=n),      # phones as numbers
        "mixed": pd.Series(rng.choice(np.array([1, "1", 1.0, True, None, "x", -0.0, 0.0],
                                               dtype=object), size=n), dtype=object),
        "empty": pd.Series([None] * n, dtype="str"),
        "client": rng.integers(0, 100, size=n),
    })
    ids = {"user_id": "uid", "loyalty_card": "card", "phone": "phone", "other": "mixed",
           "email": "empty"}
    for kwargs in ({}, {"client": "client"}, {"client": "client", "max_links": 1}):
        assert_same_stitching(*_both(data, ids, record="rid", source="src", **kwargs))


def test_many_sources_and_one_record():
    rng = np.random.default_rng(3)
    n = 400
    data = pd.DataFrame({"src": [f"s{i:02d}" for i in rng.integers(0, 70, size=n)],
                         "email": [f"p{i}@mail.ru" for i in rng.integers(0, 90, size=n)]})
    assert_same_stitching(*_both(data, {"email": "email"}, source="src"))
    one = pd.DataFrame({"email": ["a@b.ru"], "rid": ["r"]})
    assert_same_stitching(*_both(one, {"email": "email"}, record="rid"))


@pytest.mark.parametrize("ids", [["b", "a", "c", "a"], [3, 1, 2, 1], [1.5, 0.0, -0.0, 2.0],
                                 ["R2", "R1", "R3", "R1"]])
def test_duplicate_record_ids_are_reported_like_the_reference(ids):
    data = pd.DataFrame({"rid": ids, "email": ["a@b.ru"] * 4})
    with pytest.raises(DataError) as got:
        stitch_identities(data, {"email": "email"}, record="rid")
    with pytest.raises(DataError) as expected:
        ref.stitch_identities(data, {"email": "email"}, record="rid")
    assert str(got.value) == str(expected.value)


def test_missing_source_is_an_error_not_a_silent_merge():
    data = pd.DataFrame({"src": ["crm", None, None], "client": ["1", "2", "3"],
                         "email": ["a@b.ru", None, None]})
    with pytest.raises(DataError, match="row 2, column 'src'"):
        stitch_identities(data, {"email": "email"}, source="src", client="client")
    with pytest.raises(DataError, match="no records"):
        stitch_identities(data.iloc[:0], {"email": "email"})


def test_link_events_errors_match_the_reference():
    records = pd.DataFrame({"rid": ["R001", "R002", "R003"],
                            "email": ["a@b.ru", "A@B.ru", "c@d.ru"]})
    got, expected = _both(records, {"email": "email"}, record="rid")
    for events in (pd.DataFrame({"record_id": ["R002", "R009", "R001", None]}),
                   pd.DataFrame({"record_id": ["R002", None]}),
                   pd.DataFrame({"record_id": ["x-1"]})):
        with pytest.raises(DataError) as new:
            link_events(events, got)
        with pytest.raises(DataError) as old:
            ref.link_events(events, expected)
        assert str(new.value) == str(old.value)
    ok = pd.DataFrame({"record_id": ["R003", "R001", "R003"], "x": [1, 2, 3]})
    assert_exact(link_events(ok, got), ref.link_events(ok, expected))
    # integer record ids
    records = records.assign(rid=[30, 10, 20])
    got, expected = _both(records, {"email": "email"}, record="rid")
    events = pd.DataFrame({"record_id": [20, 10, 10]})
    assert_exact(link_events(events, got), ref.link_events(events, expected))
    with pytest.raises(DataError, match="row 2"):
        link_events(pd.DataFrame({"record_id": [20, 99]}), got)
