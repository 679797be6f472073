"""Regenerate tests/data/survey_references.json from independent implementations.

Run with the peers installed (``pip install weightipy factor_analyzer``; they are in the
``bench`` extra): ``python tests/data/make_survey_references.py``. The JSON stores the input
data *and* the peers' outputs, so the tests need neither the peers nor a stable random
stream. Produced with weightipy 0.4.2 and factor_analyzer 0.5.1 (scikit-learn >= 1.8 needs the
``check_array`` shim below, as factor_analyzer 0.5.1 still passes ``force_all_finite``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("survey_references.json")


def raking_reference() -> dict:
    import weightipy as wp

    rng = np.random.default_rng(20261126)
    n = 3000
    df = pd.DataFrame({
        "age": rng.choice([1, 2, 3, 4], n, p=[0.4, 0.3, 0.2, 0.1]),
        "sex": rng.choice([1, 2], n, p=[0.35, 0.65]),
        "region": rng.choice([1, 2, 3, 4, 5], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]),
        "edu": rng.choice([1, 2, 3], n, p=[0.2, 0.5, 0.3]),
    })
    targets = {"age": {1: 0.25, 2: 0.25, 3: 0.25, 4: 0.25}, "sex": {1: 0.49, 2: 0.51},
               "region": {1: 0.2, 2: 0.2, 3: 0.2, 4: 0.2, 5: 0.2},
               "edu": {1: 0.3, 2: 0.4, 3: 0.3}}
    pct = {k: {c: v * 100 for c, v in t.items()} for k, t in targets.items()}
    out = {"data": {c: df[c].tolist() for c in df.columns},
           "targets": {k: {str(c): v for c, v in t.items()} for k, t in targets.items()}}
    scheme = wp.scheme_from_dict(pct, name="ref", rim_params={"convcrit": 1e-12,
                                                              "max_iterations": 10000})
    out["weights"] = wp.weight(df, scheme).round(12).tolist()
    for key, cap in (("weights_capped", 4.0), ("weights_capped_infeasible", 2.5)):
        scheme = wp.scheme_from_dict(pct, name=f"ref_{key}", rim_params={
            "convcrit": 1e-12, "max_iterations": 10000, "cap": cap})
        scheme.anesrake_cap_correction = False  # exact cap, as researchkit applies it
        out[key] = wp.weight(df, scheme).round(12).tolist()
    out["cap"] = 4.0
    out["cap_infeasible"] = 2.5  # weightipy returns weights that miss the age margin
    out["efficiency_percent"] = float(wp.weighting_efficiency(pd.Series(out["weights"])))
    out["produced_by"] = f"weightipy {wp.__version__}, convcrit=1e-12"
    return out


def efa_reference() -> dict:
    from importlib.metadata import version

    import factor_analyzer.factor_analyzer as fam
    from factor_analyzer import FactorAnalyzer
    from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo
    from factor_analyzer.rotator import Rotator
    from sklearn.utils.validation import check_array

    def shim(X, force_all_finite=None, **kw):  # sklearn >= 1.8 renamed the keyword
        return check_array(X, ensure_all_finite=force_all_finite, **kw)

    fam.check_array = shim
    rng = np.random.default_rng(7)
    n = 600
    f = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    lam = np.array([[0.8, 0], [0.7, 0.1], [0.6, 0], [0.3, 0.5], [0, 0.75], [0.6, 0],
                    [0, 0.7], [0.05, 0.6]])
    x = f @ lam.T + rng.normal(0, 0.6, (n, 8))
    items = np.clip(np.round(3 + x), 1, 5).astype(int)
    cols = [f"i{k + 1}" for k in range(8)]
    df = pd.DataFrame(items, columns=cols)
    out = {"data": {c: df[c].tolist() for c in cols}, "n_factors": 2}
    fa = FactorAnalyzer(n_factors=2, rotation=None, method="minres")
    fa.fit(df)
    unrot = fa.loadings_
    out["minres_unrotated"] = unrot.tolist()
    for rot in ("varimax", "promax", "oblimin"):
        r = Rotator(method=rot, tol=1e-14, max_iter=100000)
        L = r.fit_transform(unrot)
        out[rot] = L.tolist()
        if r.phi_ is not None:
            out[f"{rot}_phi"] = np.asarray(r.phi_).tolist()
    out["kmo"] = float(calculate_kmo(df)[1])
    stat, p = calculate_bartlett_sphericity(df)
    out["bartlett"] = [float(stat), float(p)]
    out["produced_by"] = (f"factor_analyzer {version('factor_analyzer')}: FactorAnalyzer("
                          "method='minres') loadings, then Rotator(tol=1e-14) for rotations")
    return out


if __name__ == "__main__":
    ref = {"raking": raking_reference(), "efa": efa_reference()}
    OUT.write_text(json.dumps(ref), encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
