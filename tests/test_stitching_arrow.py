"""Arrow helpers behind the vectorised stitching and journeys, against plain Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from researchkit.channels._arrow import (
    factorize_text,
    id_numbers,
    int_codes,
    lookup,
    numbered,
    positions_in,
    repeat_text,
    sorted_unique,
    text_array,
)
from researchkit.channels.identifiers import _keep_digits, _printable


def test_text_array_only_for_text():
    assert text_array(pd.Series(["a", None])).to_pylist() == ["a", None]
    assert text_array(pd.Series(["a", None], dtype=object)).to_pylist() == ["a", None]
    assert text_array(pd.Series([1, 2])) is None
    assert text_array(pd.Series(["a", 1], dtype=object)) is None
    assert text_array(pd.Series([None, None], dtype=object)) is None


def test_factorize_text_codes_and_missing():
    codes, uniques = factorize_text(pa.array(["b", None, "a", "b"]))
    assert codes.tolist() == [0, -1, 1, 0] and uniques.to_pylist() == ["b", "a"]


@pytest.mark.parametrize(("values", "expected"), [
    (["P001", "P010", "P100"], ([1, 10, 100], ("P", 3))),
    (["0012", "1000"], ([12, 1000], ("", 4))),
    (["R-01", "R-99"], ([1, 99], ("R-", 2))),
    (["P001", "Q010"], None),          # two prefixes
    (["P01", "P001"], None),           # two widths
    (["P01", "P1x"], None),            # not digits
    (["é01", "é02"], None),            # non-ASCII prefix
    (["P", "P"], None),                # no digits
    (["P0000000000000000001"], None),  # 19 digits do not fit
    ([], None),
])
def test_id_numbers(values, expected):
    got = id_numbers(pa.array(values, type=pa.large_string()))
    if expected is None:
        assert got is None
    else:
        assert got[0].tolist() == expected[0] and got[1] == expected[1]
    assert id_numbers(pa.array(["P1", None])) is None


def test_id_numbers_of_a_slice_and_numbered_round_trip():
    arr = pa.array(["xx", "P007", "P123"]).slice(1)
    keys, (prefix, width) = id_numbers(arr)
    assert numbered(prefix, keys, width).to_pylist() == ["P007", "P123"]
    assert numbered("P", np.array([1, 42]), 6).to_pylist() == ["P000001", "P000042"]
    assert repeat_text("email", 3).to_pylist() == ["email"] * 3
    assert repeat_text("", 2).to_pylist() == ["", ""]


@pytest.mark.parametrize("spread", [1, 10**12])
def test_lookup_int_codes_and_sorted_unique(spread):
    rng = np.random.default_rng(spread % 97)
    keys = rng.permutation(5000) * spread - 7
    wanted = np.concatenate([rng.choice(keys, 3000), [keys.max() + 1, keys.min() - 1]])
    pos = lookup(keys, wanted)
    where = {k: i for i, k in enumerate(keys.tolist())}
    assert pos.tolist() == [where.get(k, -1) for k in wanted.tolist()]
    values = rng.choice(keys[:50], 2000)
    uniq, codes = int_codes(values)
    assert uniq.tolist() == sorted(set(values.tolist()))
    assert (uniq[codes] == values).all()
    assert sorted_unique(values).tolist() == uniq.tolist()
    assert lookup(np.array([], dtype=np.int64), wanted).tolist() == [-1] * len(wanted)


def test_positions_in_text_and_integers():
    ref = pd.Series(["R03", "R01", "R02"], dtype="str")
    assert positions_in(ref, pd.Series(["R02", "R09", "R03"], dtype="str")).tolist() == [
        2, -1, 0]
    ref = pd.Series(["a", "bb", "c"], dtype="str")
    assert positions_in(ref, pd.Series(["c", None, "bb"], dtype="str")).tolist() == [2, -1, 1]
    # same digits, another prefix: not the same id
    assert positions_in(pd.Series(["R01"], dtype="str"),
                        pd.Series(["X01"], dtype="str")).tolist() == [-1]
    assert positions_in(pd.Series([30, 10]), pd.Series([10, 5])).tolist() == [1, -1]
    assert positions_in(pd.Series([1.0]), pd.Series([1.0])) is None


def test_byte_level_helpers():
    values = ["+7 (916) 1", "", "abc", "١٢٣", "8-9", "\t7"]
    arr = pa.array(values, type=pa.large_string())
    assert _keep_digits(arr).to_pylist() == ["79161", "", "", "", "89", "7"]
    assert _printable(arr).tolist() == [True, True, True, False, True, False]
    sliced = arr.slice(2, 3)
    assert _keep_digits(sliced).to_pylist() == ["", "", "89"]
    assert _printable(sliced).tolist() == [True, False, True]
