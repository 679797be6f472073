"""Reading tables: formats, value labels, clear errors, raw files untouched."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from researchkit.errors import DataError, ParameterError
from researchkit.io import file_sha256, read_table, write_sav


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "brand": [1, 2, 1], "score": [7.5, 9.0, 3.0]})


def test_formats_round_trip(tmp_path, frame):
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_csv(tmp_path / "a.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    for name in ("a.csv", "a.tsv", "a.parquet", "a.xlsx"):
        got = read_table(tmp_path / name)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), frame, check_dtype=False)
        assert got.attrs["sha256"] == file_sha256(tmp_path / name)


def test_spss_value_labels_kept(tmp_path, frame):
    path = write_sav(frame, tmp_path / "s.sav",
                     value_labels={"brand": {1: "Alpha", 2: "Beta"}},
                     column_labels={"brand": "Brand used most often"})
    df = read_table(path)
    assert df["brand"].tolist() == [1, 2, 1]
    assert df.attrs["value_labels"] == {"brand": {1: "Alpha", 2: "Beta"}}
    assert df.attrs["column_labels"]["brand"] == "Brand used most often"
    labelled = read_table(path, labels="apply")
    assert labelled["brand"].tolist() == ["Alpha", "Beta", "Alpha"]
    with pytest.raises(DataError, match="refusing to overwrite"):
        write_sav(frame, path)


def test_raw_file_never_modified(tmp_path, frame):
    path = tmp_path / "raw.csv"
    frame.to_csv(path, index=False)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    df = read_table(path)
    df.loc[0, "score"] = -1
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "blob.bin"
    data = np.random.default_rng(1).bytes(3_000_000)
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_clear_errors(tmp_path, frame):
    with pytest.raises(DataError, match="file not found") as info:
        read_table(tmp_path / "missing.csv")
    assert "missing.csv" in str(info.value)
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(DataError, match=r"unknown file format '\.json'"):
        read_table(tmp_path / "data.json")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(tmp_path / "empty.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match="malformed CSV") as info:
        read_table(bad)
    assert "line 3" in str(info.value)
    frame.to_csv(tmp_path / "ok.csv", index=False)
    with pytest.raises(DataError, match="columns"):
        read_table(tmp_path / "ok.csv", columns=["id", "nope"])
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="cannot read parquet"):
        read_table(tmp_path / "fake.parquet")
    (tmp_path / "cp.csv").write_bytes("name\nМосква\n".encode("cp1251"))
    with pytest.raises(DataError, match="encoding"):
        read_table(tmp_path / "cp.csv")
    assert read_table(tmp_path / "cp.csv", encoding="cp1251")["name"][0] == "Москва"
    with pytest.raises(ParameterError, match="sheet"):
        read_table(tmp_path / "ok.csv", sheet=1)
