"""Banner tables: percentages, bases, nets, multiple response, means, letters, exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from researchkit.datasets.survey import questionnaire_path, simulate_brand_tracker
from researchkit.errors import DataError, ParameterError
from researchkit.survey import RowSpec, banner, load_questionnaire, rake


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire(questionnaire_path("brand_tracker"))


@pytest.fixture(scope="module")
def data():
    sim = simulate_brand_tracker(2500, seed=21)
    df = sim.data
    return df.assign(w=rake(df, sim.truth["targets"]).weights)


def _cells(t, **query):
    c = t.cells
    for k, v in query.items():
        c = c[c[k] == v]
    return c


def test_column_percentages_and_bases_match_crosstab(data, qn):
    t = banner(data, rows=["usage"], cols=["age_group"], questionnaire=qn, sig_levels=())
    sub = data.dropna(subset=["usage"])
    ct = pd.crosstab(sub["usage"], sub["age_group"], normalize="columns")
    labels = {1: "18-34", 2: "35-49", 3: "50-65"}
    for code in ct.index:
        for col in ct.columns:
            got = _cells(t, kind="category", code=code, column=labels[col])["value"].item()
            assert got == pytest.approx(ct.loc[code, col])
    base = _cells(t, kind="base", group="age_group").set_index("column")["value"]
    assert base["18-34"] == (sub["age_group"] == 1).sum()
    total = _cells(t, kind="category", code=1, group="__total__")["value"].item()
    assert total == pytest.approx((sub["usage"] == 1).mean())


def test_weighted_percentages_and_effective_base(data, qn):
    t = banner(data, rows=["category_user"], cols=["gender"], weight="w", questionnaire=qn,
               sig_levels=())
    men = data[data["gender"] == 1]
    w = men["w"].to_numpy()
    got = _cells(t, kind="category", code=1, column="Man")["value"].item()
    assert got == pytest.approx((w * (men["category_user"] == 1)).sum() / w.sum())
    neff = _cells(t, kind="base_effective", column="Man")["value"].item()
    assert neff == pytest.approx(w.sum() ** 2 / (w**2).sum())
    wb = _cells(t, kind="base_weighted", column="Man")["value"].item()
    assert wb == pytest.approx(w.sum())


def test_significance_letters_match_statsmodels_z_test(data, qn):
    t = banner(data, rows=["usage"], cols=["age_group"], questionnaire=qn)
    sub = data.dropna(subset=["usage"])
    letters = dict(zip(t.columns["column"], t.columns["letter"], strict=True))
    cols = {1: "18-34", 2: "35-49", 3: "50-65"}
    for code in (1, 2, 3, 4):
        for a in cols:
            for b in cols:
                if a == b:
                    continue
                xa = (sub.loc[sub["age_group"] == a, "usage"] == code)
                xb = (sub.loc[sub["age_group"] == b, "usage"] == code)
                _, p = proportions_ztest([xa.sum(), xb.sum()], [len(xa), len(xb)])
                sig = _cells(t, kind="category", code=code, column=cols[a])["sig"].item()
                expected = p < 0.05 and xa.mean() > xb.mean()
                assert (letters[cols[b]] in sig) == expected, (code, a, b, p)


def test_holm_correction_uses_multipletests(data, qn):
    t = banner(data, rows=["usage"], cols=["region"], questionnaire=qn, correction="holm")
    sub = data.dropna(subset=["usage"])
    regions = [1, 2, 3, 4]
    names = {1: "North", 2: "South", 3: "East", 4: "West"}
    letters = dict(zip(t.columns["column"], t.columns["letter"], strict=True))
    code = 4
    pairs, pv = [], []
    for i, a in enumerate(regions):
        for b in regions[i + 1:]:
            xa = sub.loc[sub["region"] == a, "usage"] == code
            xb = sub.loc[sub["region"] == b, "usage"] == code
            pv.append(proportions_ztest([xa.sum(), xb.sum()], [len(xa), len(xb)])[1])
            pairs.append((a, b, xa.mean(), xb.mean()))
    adj = multipletests(pv, method="holm")[1]
    for (a, b, pa, pb), p in zip(pairs, adj, strict=True):
        hi, lo = (a, b) if pa > pb else (b, a)
        sig = _cells(t, kind="category", code=code, column=names[hi])["sig"].item()
        assert (letters[names[lo]] in sig) == (p < 0.05)
    assert "Holm" in t.method


def test_means_row_welch_t_test(data, qn):
    t = banner(data, rows=["nps"], cols=["gender"], questionnaire=qn)
    men = data.loc[data["gender"] == 1, "nps"].dropna()
    women = data.loc[data["gender"] == 2, "nps"].dropna()
    m = _cells(t, kind="mean").set_index("column")["value"]
    assert m["Man"] == pytest.approx(men.mean()) and m["Total"] == pytest.approx(
        data["nps"].mean())
    sd = _cells(t, kind="sd").set_index("column")["value"]
    assert sd["Woman"] == pytest.approx(women.std(ddof=1))
    p = stats.ttest_ind(men, women, equal_var=False).pvalue
    sig = _cells(t, kind="mean").set_index("column")["sig"]
    higher = "Man" if men.mean() > women.mean() else "Woman"
    other_letter = t.columns.set_index("column")["letter"]["Woman" if higher == "Man"
                                                            else "Man"]
    assert (other_letter in sig[higher]) == (p < 0.05)
    # NPS nets are automatic
    nets = _cells(t, kind="net", column="Total").set_index("label")["value"]
    assert nets["Promoters (9-10)"] == pytest.approx((data["nps"].dropna() >= 9).mean())


def test_nets_top_two_box_for_grid(data, qn):
    t = banner(data, rows=["image"], cols=["gender"], questionnaire=qn, sig_levels=())
    assert t.cells["title"].str.contains("tastes great").any()
    t2b = _cells(t, kind="net", label="Top 2 box", column="Total")
    taste = t2b[t2b["title"].str.contains("tastes great")]["value"].item()
    assert taste == pytest.approx((data["img_taste"].dropna() >= 4).mean())
    custom = banner(data, rows=[RowSpec("usage", nets={"Regular (weekly+monthly)": [1, 2]})],
                    cols=["gender"], questionnaire=qn, sig_levels=())
    v = _cells(custom, kind="net", column="Total")["value"].item()
    assert v == pytest.approx(data["usage"].dropna().isin([1, 2]).mean())


def test_multiple_response_rows_and_columns(data, qn):
    t = banner(data, rows=["consider"], cols=["aware"], questionnaire=qn, sig_levels=())
    asked = data[data["consider_1"].notna()]
    got = _cells(t, kind="category", code=2, column="Total")["value"].item()
    assert got == pytest.approx((asked["consider_2"] == 1).mean())
    aware_aurora = asked[asked["aware_1"] == 1]
    got = _cells(t, kind="category", code=2, column="Aurora")["value"].item()
    assert got == pytest.approx((aware_aurora["consider_2"] == 1).mean())
    shares = _cells(t, kind="category", column="Total")["value"]
    assert shares.sum() > 1                               # multiple response
    assert "overlap" in t.method


def test_numeric_row_and_spec_dicts(data, qn):
    t = banner(data, rows=[{"var": "spend"}], cols=["gender"], weight="w", questionnaire=qn)
    x = data.dropna(subset=["spend"])
    m = _cells(t, kind="mean", column="Total")["value"].item()
    assert m == pytest.approx(np.average(x["spend"], weights=x["w"]))


def test_low_bases_are_not_tested(data, qn):
    small = data.iloc[:120]
    t = banner(small, rows=["usage"], cols=["region"], questionnaire=qn, min_base=30)
    low = _cells(t, kind="category")
    assert low["low_base"].any()
    assert (low.loc[low["low_base"], "sig"] == "").all()
    assert t.warnings


def test_without_questionnaire_uses_codes_and_spss_labels(data):
    df = data[["usage", "gender"]].copy()
    df.attrs["value_labels"] = {"gender": {1: "M", 2: "F"}}
    t = banner(df, rows=["usage"], cols=["gender"], sig_levels=())
    assert set(t.columns["column"]) == {"Total", "M", "F"}


def test_exports(data, qn, tmp_path):
    from openpyxl import load_workbook

    t = banner(data, rows=["aware", "usage", "nps"], cols=["age_group", "gender"],
               weight="w", questionnaire=qn, sig_levels=(0.05, 0.10), title="Brand health")
    wide = t.to_frame()
    assert ("Age group", "18-34 (A)") in wide.columns
    page = t.to_html(tmp_path / "b.html")
    assert "rk-sig" in page and "Effective base" in page and (tmp_path / "b.html").exists()
    path = t.to_excel(tmp_path / "b.xlsx")
    ws = load_workbook(path).active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "Brand health" in values and "Effective base" in values
    nums = [c for row in ws.iter_rows() for c in row if isinstance(c.value, float)
            and "%" in c.number_format]
    assert nums, "percentages are stored as numbers"
    with pytest.raises(DataError, match="overwrite"):
        t.to_excel(tmp_path / "b.xlsx")
    assert "<table" in t._repr_html_()


def test_banner_errors(data, qn):
    with pytest.raises(DataError):
        banner(data, rows=["nope"], cols=["gender"])
    with pytest.raises(ParameterError):
        banner(data, rows="usage", cols=["gender"])
    with pytest.raises(ParameterError):
        banner(data, rows=["usage"], cols=["gender"], correction="magic")
    with pytest.raises(ParameterError, match="open question"):
        banner(data, rows=["nps_why"], cols=["gender"], questionnaire=qn)
    bad = data.assign(usage=data["usage"].replace(4, 8))
    with pytest.raises(DataError, match="codes not in the questionnaire"):
        banner(bad, rows=["usage"], cols=["gender"], questionnaire=qn)


def test_split_ballot_banner_recovers_wording_effect():
    from researchkit.datasets.survey import simulate_concept_test

    qn = load_questionnaire(questionnaire_path("concept_test"))
    sim = simulate_concept_test(3000, seed=4)
    t = banner(sim.data, rows=["appeal"], cols=["concept_form"], questionnaire=qn)
    assert t.columns["column"].tolist() == ["Total", "Version A", "Version B"]
    means = _cells(t, kind="mean").set_index("column")
    sds = _cells(t, kind="sd").set_index("column")["value"]
    bases = _cells(t, kind="base").set_index("column")["value"]
    for v in ("A", "B"):
        col = f"Version {v}"
        se = sds[col] / np.sqrt(bases[col])
        assert abs(means.loc[col, "value"] - sim.truth["appeal_mean"][v]) < 3 * se
    assert "A" in means.loc["Version B", "sig"]            # B's headline wins, as simulated
