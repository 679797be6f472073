"""Identity stitching: records linked through shared identifiers into people.

The partition is checked against a plain union-find (disjoint-set forest with path halving,
Tarjan 1975) written here independently, and against the simulator's known people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import researchkit.datasets as ds
from researchkit.channels import link_events, stitch_identities
from researchkit.errors import DataError, ParameterError

IDS = {"email": "email", "phone": "phone", "user_id": "user_id",
       "loyalty_card": "loyalty_card", "device_id": "device_id"}


def test_one_person_who_phones_writes_and_fills_a_form_is_one_client():
    records = pd.DataFrame({
        "source": ["call_centre", "messenger", "web_form"],
        "phone": ["8 (916) 123-45-67", "+7 916 123 45 67", "79161234567"],
        "email": [None, None, "Anna@Mail.ru"],
    })
    res = stitch_identities(records, {"phone": "phone", "email": "email"}, source="source")
    assert res.details["clients_before"] == 3
    assert res.details["people_after"] == 1
    assert res.estimate == 1
    assert res.records["person_id"].nunique() == 1
    assert res.table.loc["(all sources)", "clients"] == 3


def test_linking_is_transitive_and_unrelated_records_stay_apart():
    records = pd.DataFrame({
        "rid": ["a", "b", "c", "d", "e"],
        "email": ["x@mail.ru", "X@MAIL.RU ", None, None, "other@mail.ru"],
        "phone": [None, "89161234567", "+79161234567", None, None],
        "card": [None, None, "123", "123", None],
    })
    res = stitch_identities(records, {"email": "email", "phone": "phone",
                                      "loyalty_card": "card"}, record="rid")
    people = res.records.set_index("rid")["person_id"]
    assert people["a"] == people["b"] == people["c"] == people["d"]
    assert people["e"] != people["a"]
    assert res.details["people_after"] == 2


def test_malformed_identifiers_are_reported_and_do_not_link():
    records = pd.DataFrame({"email": ["ann at mail.ru", "ann at mail.ru", "b@mail.ru"]})
    res = stitch_identities(records, {"email": "email"})
    assert res.details["people_after"] == 3
    assert len(res.problems) == 2
    assert res.problems["reason"].str.contains("'@'").all()
    assert any("malformed" in w for w in res.warnings)


def test_hub_identifier_is_a_conflict_not_a_link():
    # the cashier's default loyalty card typed for five different customers (with phones)
    phones = [f"+7916000000{i}" for i in range(5)]
    records = pd.DataFrame({"phone": [*phones, "+79160000009"],
                            "card": ["0000000001"] * 5 + ["555"]})
    res = stitch_identities(records, {"phone": "phone", "loyalty_card": "card"}, max_links=3)
    assert res.details["people_after"] == 6
    assert res.conflicts[["kind", "value", "linked_kind", "distinct_linked", "records"]].iloc[
        0].tolist() == ["loyalty_card", "0000000001", "phone", 5, 5]
    assert (res.identifiers.query("kind == 'loyalty_card' and value == '0000000001'")["status"]
            == "conflict").all()
    # with a higher threshold the card links them all (and nothing is reported)
    loose = stitch_identities(records, {"phone": "phone", "loyalty_card": "card"},
                              max_links=10)
    assert loose.details["people_after"] == 2 and loose.conflicts.empty


def test_person_ids_do_not_depend_on_row_order():
    sim = ds.simulate_omnichannel(300, seed=5)
    rec = sim.data["records"]
    a = stitch_identities(rec, IDS, record="record_id", source="source")
    shuffled = rec.sample(frac=1.0, random_state=1)
    b = stitch_identities(shuffled, IDS, record="record_id", source="source")
    pa = a.records.set_index("record_id")["person_id"]
    pb = b.records.set_index("record_id")["person_id"]
    assert pa.sort_index().equals(pb.sort_index())
    # numbered by smallest record id
    first = a.records.sort_values("record_id").drop_duplicates("person_id")["person_id"]
    assert first.tolist() == [f"P{i + 1:06d}" for i in range(len(first))]


def _naive_union_find(rec: pd.DataFrame, res) -> pd.Series:
    parent = list(range(len(rec)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[tuple[str, str], int] = {}
    usable = res.identifiers[res.identifiers["status"] == "ok"]
    pos = {rid: i for i, rid in enumerate(rec["record_id"])}
    for rid, kind, value in zip(usable["record_id"], usable["kind"], usable["normalized"],
                                strict=True):
        i = pos[rid]
        if (kind, value) in seen:
            ri, rj = find(i), find(seen[(kind, value)])
            if ri != rj:
                parent[ri] = rj
        else:
            seen[(kind, value)] = i
    return pd.Series([find(i) for i in range(len(rec))], index=rec["record_id"])


def test_partition_equals_plain_union_find_and_recovers_true_people():
    sim = ds.simulate_omnichannel(800, seed=11)
    rec = sim.data["records"]
    res = stitch_identities(rec, IDS, record="record_id", source="source")
    ours = res.records.set_index("record_id")["person_id"]
    naive = _naive_union_find(rec, res)
    # same partition: a bijection between labels
    pairs = pd.DataFrame({"ours": ours, "naive": naive})
    assert pairs.groupby("ours")["naive"].nunique().max() == 1
    assert pairs.groupby("naive")["ours"].nunique().max() == 1
    # no two real people merged (the planted hubs are caught as conflicts)
    truth = rec["record_id"].map(sim.truth["person_of_record"])
    purity = pd.DataFrame({"p": ours.to_numpy(), "t": truth.to_numpy()}).groupby("p")["t"]
    assert purity.nunique().max() == 1
    assert set(res.conflicts["value"]) == set(sim.truth["conflict_identifiers"].values())
    # people after stitching: at least the real people (anonymous visits stay apart) and far
    # fewer than the raw clients
    assert sim.truth["n_people"] <= res.details["people_after"] < res.details["clients_before"]
    # using the hubs would merge real people
    loose = stitch_identities(rec, IDS, record="record_id", max_links=10_000)
    lp = loose.records.set_index("record_id")["person_id"]
    assert pd.DataFrame({"p": lp.to_numpy(), "t": truth.to_numpy()}).groupby("p")[
        "t"].nunique().max() > 1


def test_client_ids_count_clients_before_stitching():
    records = pd.DataFrame({"src": ["crm", "crm", "shop"], "cid": [7, 7, 1],
                            "email": ["a@b.ru", None, "A@b.ru"]})
    res = stitch_identities(records, {"email": "email"}, source="src", client="cid")
    assert res.details["clients_before"] == 2
    assert res.details["people_after"] == 1


def test_link_events_and_its_errors():
    records = pd.DataFrame({"rid": ["r1", "r2"], "email": ["a@b.ru", "a@b.ru"]})
    res = stitch_identities(records, {"email": "email"}, record="rid")
    events = pd.DataFrame({"record_id": ["r2", "r1"], "x": [1, 2]})
    out = link_events(events, res)
    assert out["person_id"].nunique() == 1
    with pytest.raises(DataError, match="unknown record"):
        link_events(pd.DataFrame({"record_id": ["r9"]}), res)


def test_bad_input_errors():
    df = pd.DataFrame({"email": ["a@b.ru"], "rid": [1]})
    with pytest.raises(DataError, match="column 'mail'"):
        stitch_identities(df, {"email": "mail"})
    with pytest.raises(ParameterError, match="identifiers"):
        stitch_identities(df, {})
    with pytest.raises(ParameterError, match="max_links"):
        stitch_identities(df, {"email": "email"}, max_links=0)
    with pytest.raises(DataError, match="unique"):
        stitch_identities(pd.DataFrame({"email": ["a@b.ru"] * 2, "rid": [1, 1]}),
                          {"email": "email"}, record="rid")
    with pytest.raises(ParameterError, match="kinds"):
        stitch_identities(df, {"email": "email"}, kinds={"phone": "phone"})


def test_float_ids_from_csv_readers_match_integers():
    df = pd.DataFrame({"a": [123.0, np.nan], "b": ["123", "123"]})
    res = stitch_identities(df, {"x": "a", "y": "b"}, kinds={"x": "user_id", "y": "user_id"})
    assert res.details["people_after"] == 1
