"""Simulated survey respondents from the shipped questionnaires, with known population truth.

Every simulator answers one of the questionnaires in ``surveys/`` question by question,
following its routing (a question not shown is missing), so clean simulated data pass
:func:`researchkit.survey.validate_responses`. The population and the sample are separate:

* the **population** has known margins (``truth["targets"]``) and, in every cell of the
  weighting variables, known answer probabilities, so population values such as aided
  awareness are known exactly (``truth["population"]``);
* the **sample** over-represents some groups (an online panel with too many young women, say)
  through a multiplicative selection bias, so unweighted estimates are biased while raking on
  the margins removes the bias (the selection has no interactions, so the raked joint matches
  the population joint).

``messy=True`` injects the data problems cleaning must catch (speeders, straight-liners,
duplicate respondents, out-of-range codes, routing violations); ``truth["injected"]`` lists
which respondents got which problem.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import DataError

__all__ = [
    "questionnaire_path",
    "sampling_frame",
    "simulate_brand_tracker",
    "simulate_concept_test",
    "simulate_omnichannel_cx",
    "simulate_responses",
]

_SURVEYS = Path(__file__).resolve().parents[2] / "surveys"

AGE = {1: 0.36, 2: 0.32, 3: 0.32}
GENDER = {1: 0.49, 2: 0.51}
REGION = {1: 0.30, 2: 0.25, 3: 0.25, 4: 0.20}


def questionnaire_path(name: str) -> Path:
    """Path of a shipped questionnaire (``brand_tracker``, ``omnichannel_cx``,
    ``concept_test``)."""
    p = _SURVEYS / f"{name}.yaml"
    if not p.is_file():
        raise DataError(f"no shipped questionnaire named {name!r}", file=_SURVEYS,
                        expected="brand_tracker, omnichannel_cx or concept_test")
    return p


@cache
def _questionnaire(name: str) -> Any:
    from researchkit.survey.questionnaire import load_questionnaire

    return load_questionnaire(questionnaire_path(name))


_WORDS = {
    "unaided": ["Aurora", "Aurora, Borealis", "Borealis", "Cirrus", "Aurora and Dune",
                "Ember", "don't know", "Cirrus, Aurora"],
    "nps_why": ["great taste", "too expensive", "always available", "bubbles go flat",
                "nice bottle", "good value", "tastes artificial", "my kids like it"],
    "default": ["fine", "good", "not sure", "price", "quality", "service was slow",
                "friendly staff", "easy to order", "delivery late", "nothing"],
}


def _open_answers(qid: str, n: int, rng: np.random.Generator) -> np.ndarray:
    words = _WORDS.get(qid, _WORDS["default"])
    return np.asarray(words, dtype=object)[rng.integers(0, len(words), n)]


def _sample_scale(latent: np.ndarray, codes: list[int], rng: np.random.Generator,
                  spread: float = 1.0) -> np.ndarray:
    """Ordinal answers from a latent score (probit-style thresholds, evenly spaced)."""
    k = len(codes)
    x = latent + rng.normal(0, spread, len(latent))
    cuts = np.linspace(-1.5, 1.5, k - 1)
    idx = np.searchsorted(cuts, x)
    return np.asarray(codes, dtype=float)[idx]


Generator = Callable[[pd.DataFrame, np.ndarray, np.random.Generator], Any]


def simulate_responses(qn: Any, n: int = 500, *, seed: int | None = 0,
                       generators: dict[str, Generator] | None = None,
                       base: pd.DataFrame | None = None) -> pd.DataFrame:
    """Answer a questionnaire for ``n`` respondents, following its routing.

    Parameters
    ----------
    qn : Questionnaire or str
        A questionnaire or the name of a shipped one.
    n : int
        Respondents.
    seed : int
        Random seed.
    generators : mapping, optional
        ``{question id: f(data_so_far, shown_mask, rng) -> values for the shown rows}``;
        for a multiple-choice question return an (shown × options) 0/1 array, for a grid a
        (shown × items) array. Other questions get plausible random answers.
    base : DataFrame, optional
        Columns already fixed (e.g. the sampled demographics); their questions are kept.

    Returns
    -------
    DataFrame
        One row per respondent: ``respondent_id``, split variables, every question variable,
        ``duration_sec``.
    """
    from researchkit.survey.questionnaire import OPEN_TYPES

    if isinstance(qn, str):
        qn = _questionnaire(qn)
    n = check_positive_int(n, "n")
    rng = make_rng(seed)
    gens = generators or {}
    df = pd.DataFrame({qn.respondent_id: np.arange(1, n + 1)})
    if base is not None:
        for c in base.columns:
            df[c] = base[c].to_numpy()
    for s in qn.splits:
        p = s.weights or [1 / len(s.variants)] * len(s.variants)
        df[s.id] = rng.choice(np.arange(1, len(s.variants) + 1), size=n, p=p)
    for q in qn.questions():
        if base is not None and all(v in base.columns for v in q.variables):
            continue
        cond = qn.condition(q)
        shown = np.ones(n, dtype=bool) if cond is None else \
            cond.evaluate(df, qn.columns_of).to_numpy()
        m = int(shown.sum())
        gen = gens.get(q.id)
        if q.type == "multiple":
            opts = list(q.options or {})
            if gen is not None:
                block = np.asarray(gen(df, shown, rng), dtype=float)
            else:
                block = (rng.random((m, len(opts))) < 0.3).astype(float)
            excl = [opts.index(c) for c in q.exclusive]
            if excl:
                others = [k for k in range(len(opts)) if k not in excl]
                anyo = block[:, others].sum(axis=1) > 0
                block[:, excl[0]] = np.where(anyo, 0.0, 1.0)
                for e in excl[1:]:
                    block[:, e] = 0.0
            full = np.full((n, len(opts)), np.nan)
            full[shown] = block
            for k, c in enumerate(opts):
                df[f"{q.id}_{c}"] = full[:, k]
            if q.other:
                df[f"{q.id}_other"] = None
            continue
        if q.type == "grid":
            items = q.items or []
            codes = list(q.codes)
            if gen is not None:
                block = np.asarray(gen(df, shown, rng), dtype=float)
            else:
                block = rng.choice(codes, size=(m, len(items))).astype(float)
            for k, it in enumerate(items):
                full = np.full(n, np.nan)
                full[shown] = block[:, k]
                df[it.id] = full
            continue
        if q.type in OPEN_TYPES:
            for var in q.variables:
                full = np.full(n, None, dtype=object)
                full[shown] = gen(df, shown, rng) if gen is not None else \
                    _open_answers(q.id, m, rng)
                df[var] = full
            continue
        if gen is not None:
            vals = np.asarray(gen(df, shown, rng), dtype=float)
        elif q.type == "numeric":
            lo = q.min if q.min is not None else 0
            hi = q.max if q.max is not None else 100
            vals = np.round(np.clip(rng.gamma(2.0, (hi - lo) / 20, m) + lo, lo, hi), 0)
        else:
            codes = [c for c in q.codes if q.resolved_scale is None
                     or c != q.resolved_scale.dont_know]
            vals = rng.choice(codes, size=m).astype(float)
        full = np.full(n, np.nan)
        full[shown] = vals
        df[q.id] = full
        if q.other and q.type == "single":
            df[f"{q.id}_other"] = None
    df["duration_sec"] = np.round(rng.lognormal(np.log(600), 0.35, n)).astype(float)
    return df


def _cells() -> pd.DataFrame:
    rows = [{"age_group": a, "gender": g, "region": r,
             "pop": AGE[a] * GENDER[g] * REGION[r]}
            for a, g, r in product(AGE, GENDER, REGION)]
    return pd.DataFrame(rows)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# awareness model: logit P(aware brand b | cell) = alpha_b + age + gender + region effects
_ALPHA = np.array([0.35, 0.8, -0.4, -1.0, -0.2])
_AGE_EFF = {1: 0.6, 2: 0.0, 3: -0.6}
_GENDER_EFF = {1: -0.15, 2: 0.15}
_REGION_EFF = {1: 0.3, 2: 0.0, 3: -0.2, 4: -0.3}
_CONSIDER = np.array([0.55, 0.5, 0.35, 0.3, 0.4])  # P(consider | aware)


def _aware_prob(cells: pd.DataFrame) -> np.ndarray:
    lin = (cells["age_group"].map(_AGE_EFF) + cells["gender"].map(_GENDER_EFF)
           + cells["region"].map(_REGION_EFF)).to_numpy()
    return _logistic(_ALPHA[None, :] + lin[:, None])


def simulate_brand_tracker(n: int = 1200, seed: int | None = 0, *, bias: float = 1.0,
                           messy: bool = False) -> Simulated:
    """Brand-health tracker answers (``surveys/brand_tracker.yaml``) with known truth.

    Parameters
    ----------
    n : int
        Completed interviews.
    seed : int
    bias : float
        Strength of the sample's selection bias (0 = a representative sample; 1 = an online
        panel with too many 18-34s, women and Northerners).
    messy : bool
        Inject speeders, straight-liners, duplicates, out-of-range codes and routing errors.

    Returns
    -------
    Simulated
        ``data``: one row per respondent. ``truth``: ``targets`` (population margins for
        raking), ``population`` (population aided awareness and consideration of each brand,
        category-user share, the mean image-factor scores), ``loadings`` (the two-factor
        structure of the image grid), ``injected`` (respondent ids per injected problem).
    """
    n = check_positive_int(n, "n")
    rng = make_rng(seed)
    qn = _questionnaire("brand_tracker")
    cells = _cells()
    sel = (cells["age_group"].map({1: 1.8, 2: 1.0, 3: 0.55}) ** bias
           * cells["gender"].map({1: 0.8, 2: 1.25}) ** bias
           * cells["region"].map({1: 1.5, 2: 1.0, 3: 0.8, 4: 0.7}) ** bias)
    p_sample = (cells["pop"] * sel).to_numpy(dtype=float, copy=True)
    p_sample /= p_sample.sum()
    idx = rng.choice(len(cells), size=n, p=p_sample)
    base = cells.iloc[idx][["age_group", "gender", "region"]].reset_index(drop=True)
    base = base.astype(float)
    pa = _aware_prob(cells)
    p_user = _logistic(0.9 + cells["age_group"].map({1: 0.4, 2: 0.1, 3: -0.3}).to_numpy())
    cell_of = idx
    # latent brand liking (two correlated factors) per respondent
    f = rng.multivariate_normal([0, 0], [[1, 0.45], [0.45, 1]], size=n)
    f[:, 0] += cells["age_group"].map({1: 0.3, 2: 0.0, 3: -0.2}).to_numpy()[cell_of]
    loadings = np.array([[0.8, 0.0], [0.75, 0.1], [0.6, 0.0], [0.3, 0.55], [0.0, 0.75],
                         [0.65, 0.0], [0.0, 0.7], [0.0, -0.6]])

    def gen_user(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        return np.where(r.random(shown.sum()) < p_user[cell_of[shown]], 1.0, 2.0)

    def gen_aware(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        probs = pa[cell_of[shown]]
        block = (r.random(probs.shape) < probs).astype(float)
        return np.column_stack([block, np.zeros(len(block))])

    def gen_consider(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator
                     ) -> np.ndarray:
        aware = df.loc[shown, [f"aware_{b}" for b in range(1, 6)]].to_numpy()
        boost = 1 / (1 + np.exp(-f[shown, 0]))[:, None]
        probs = aware * np.clip(_CONSIDER[None, :] * (0.6 + 0.8 * boost) / 1.0, 0, 1)
        block = (r.random(probs.shape) < probs).astype(float)
        return np.column_stack([block, np.zeros(len(block))])

    def gen_usage(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        return _sample_scale(-f[shown, 0] * 0.8, [1, 2, 3, 4], r, 1.0)

    def gen_nps(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        x = 7.2 + 1.6 * f[shown, 0] + 0.6 * f[shown, 1] + r.normal(0, 1.4, shown.sum())
        return np.clip(np.round(x), 0, 10)

    def gen_image(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        lat = f[shown] @ loadings.T
        return np.column_stack([_sample_scale(lat[:, k] + 0.3, [1, 2, 3, 4, 5], r, 0.7)
                                for k in range(loadings.shape[0])])

    def gen_spend(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        return np.round(np.clip(r.gamma(2.0, 9.0, shown.sum()), 0, 500))

    data = simulate_responses(qn, n, seed=rng, base=base, generators={
        "category_user": gen_user, "aware": gen_aware, "consider": gen_consider,
        "usage": gen_usage, "nps": gen_nps, "image": gen_image, "spend": gen_spend})
    for c in ("age_group", "gender", "region"):
        data[c] = data[c].astype(int)
    pop = cells["pop"].to_numpy()
    population = {f"aware_{b + 1}": float(pop @ pa[:, b]) for b in range(5)}
    population["category_user"] = float(pop @ p_user)
    injected: dict[str, list[int]] = {}
    if messy:
        data, injected = _inject_problems(data, rng)
    truth = {
        "targets": {"age_group": dict(AGE), "gender": dict(GENDER), "region": dict(REGION)},
        "population": population,
        "sample_cell_probabilities": p_sample.tolist(),
        "loadings": loadings.tolist(),
        "factor_correlation": 0.45,
        "image_items": ["img_taste", "img_quality", "img_value", "img_trust", "img_modern",
                        "img_natural", "img_fun", "img_boring"],
        "bias": bias,
        "injected": injected,
    }
    return Simulated(data=data, truth=truth, description=(
        f"{n} simulated answers to the brand health tracker (surveys/brand_tracker.yaml). "
        "The population has independent age, gender and region margins (truth['targets']); "
        "awareness depends on all three; the sample over-represents young people, women and "
        "the North (selection bias strength {bias}), so raking on the margins recovers the "
        "population awareness in truth['population']. The image grid follows a two-factor "
        "model (truth['loadings']).").replace("{bias}", f"{bias:g}"))


def _inject_problems(data: pd.DataFrame, rng: np.random.Generator
                     ) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    data = data.copy()
    n = len(data)
    k = max(2, n // 100)
    ids = data["respondent_id"].to_numpy()
    order = rng.permutation(n)
    chunks = [order[i * k:(i + 1) * k] for i in range(5)]
    injected: dict[str, list[int]] = {}
    # speeders
    data.loc[data.index[chunks[0]], "duration_sec"] = rng.uniform(60, 140, k).round()
    injected["speeder"] = sorted(int(x) for x in ids[chunks[0]])
    # straight-liners in the image grid (only among those shown the grid)
    grid = ["img_taste", "img_quality", "img_value", "img_trust", "img_modern", "img_natural",
            "img_fun", "img_boring"]
    shown = data.index[data["img_taste"].notna()]
    pick = [i for i in data.index[chunks[1]] if i in set(shown)]
    for i in pick:
        data.loc[i, grid] = float(rng.integers(1, 6))
    injected["straightliner"] = sorted(int(data.loc[i, "respondent_id"]) for i in pick)
    # out-of-range codes
    data.loc[data.index[chunks[2]], "region"] = 7
    injected["out_of_range"] = sorted(int(x) for x in ids[chunks[2]])
    # routing violations: NPS answered by people not shown it
    not_shown = data.index[data["nps"].isna()]
    pick = [i for i in data.index[chunks[3]] if i in set(not_shown)]
    data.loc[pick, "nps"] = 8.0
    injected["routing"] = sorted(int(data.loc[i, "respondent_id"]) for i in pick)
    # duplicates: copies of existing respondents with new ids
    dup_src = data.loc[data.index[chunks[4]]].copy()
    dup_src["respondent_id"] = np.arange(n + 1, n + 1 + len(dup_src))
    injected["duplicate"] = sorted(int(x) for x in dup_src["respondent_id"])
    data = pd.concat([data, dup_src], ignore_index=True)
    return data, injected


def simulate_concept_test(n: int = 400, seed: int | None = 0, *,
                          effect: float = 0.3) -> Simulated:
    """Concept-test answers (``surveys/concept_test.yaml``) with a known split-ballot effect.

    Version B of the headline raises the latent appeal by ``effect`` (in latent SD units);
    ``truth["appeal_mean"]`` gives the expected mean appeal (1-5) under each version.
    """
    n = check_positive_int(n, "n")
    rng = make_rng(seed)
    qn = _questionnaire("concept_test")
    latent = rng.normal(0, 1, n)

    def gen_appeal(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        lift = np.where(df.loc[shown, "concept_form"].to_numpy() == 2, effect, 0.0)
        return _sample_scale(latent[shown] + lift, [1, 2, 3, 4, 5], r, 0.8)

    def gen_intent(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        lift = np.where(df.loc[shown, "concept_form"].to_numpy() == 2, effect, 0.0)
        return _sample_scale(0.9 * latent[shown] + lift - 0.2, [1, 2, 3, 4, 5], r, 0.8)

    def gen_diag(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        return np.column_stack([_sample_scale(0.7 * latent[shown] + 0.2, [1, 2, 3, 4, 5], r,
                                              0.8) for _ in range(4)])

    data = simulate_responses(qn, n, seed=rng, generators={
        "appeal": gen_appeal, "intent": gen_intent, "attributes": gen_diag})
    # expected mean appeal under each version, by simulation of the latent model
    big = np.random.default_rng(12345)
    lat = big.normal(0, 1, 400_000)
    means = {v: float(_sample_scale(lat + (effect if v == "B" else 0.0), [1, 2, 3, 4, 5], big,
                                    0.8).mean()) for v in ("A", "B")}
    return Simulated(data=data, truth={"effect_latent": effect, "appeal_mean": means},
                     description=f"{n} answers to the concept test; version B of the headline "
                                 f"raises latent appeal by {effect:g} SD.")


def simulate_omnichannel_cx(n: int = 800, seed: int | None = 0) -> Simulated:
    """Omnichannel CX answers (``surveys/omnichannel_cx.yaml``); channel satisfaction known.

    ``truth["satisfaction_latent"]`` gives each channel's latent satisfaction shift (the
    store and the app best, the call centre worst), which drives the 1-5 ratings.
    """
    n = check_positive_int(n, "n")
    rng = make_rng(seed)
    qn = _questionnaire("omnichannel_cx")
    shift = {"sat_web": 0.2, "sat_app": 0.45, "sat_store": 0.5, "sat_callcentre": -0.5}
    person = rng.normal(0, 0.7, n)
    gens: dict[str, Generator] = {}
    for qid, s in shift.items():
        def gen(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator,
                s: float = s) -> np.ndarray:
            return _sample_scale(person[shown] + s, [1, 2, 3, 4, 5], r, 0.9)
        gens[qid] = gen

    def gen_search(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        p = np.array([0.7, 0.35, 0.3, 0.4, 0.45, 0.15, 0.2, 0.0])
        return (r.random((shown.sum(), len(p))) < p).astype(float)

    def gen_purchase(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator
                     ) -> np.ndarray:
        return r.choice([1, 2, 3, 4, 5], size=shown.sum(), p=[0.3, 0.2, 0.2, 0.25, 0.05])

    def gen_nps(df: pd.DataFrame, shown: np.ndarray, r: np.random.Generator) -> np.ndarray:
        return np.clip(np.round(7.5 + 2.0 * person[shown] + r.normal(0, 1.3, shown.sum())),
                       0, 10)

    gens.update({"ch_search": gen_search, "ch_purchase": gen_purchase, "nps": gen_nps})
    data = simulate_responses(qn, n, seed=rng, generators=gens)
    return Simulated(data=data, truth={"satisfaction_latent": shift},
                     description=f"{n} answers to the omnichannel CX survey.")


def sampling_frame(n: int = 20000, seed: int | None = 0) -> Simulated:
    """A customer sampling frame: region (stratum), store (cluster), annual spend.

    ``truth`` holds the frame's own totals: mean spend overall and by region (the population
    values a sample estimates), and the region sizes and standard deviations of spend (for
    Neyman allocation).
    """
    n = check_positive_int(n, "n")
    rng = make_rng(seed)
    region = rng.choice([1, 2, 3, 4], size=n, p=[0.4, 0.3, 0.2, 0.1])
    store = region * 100 + rng.integers(0, 25, n)
    scale = np.array([0, 300.0, 450.0, 250.0, 900.0])[region]
    spend = np.round(rng.gamma(2.0, scale / 2.0), 2)
    frame = pd.DataFrame({"customer_id": np.arange(1, n + 1), "region": region,
                          "store": store, "spend": spend})
    by = frame.groupby("region")["spend"]
    return Simulated(data=frame, truth={
        "mean_spend": float(spend.mean()),
        "mean_spend_by_region": {int(k): float(v) for k, v in by.mean().items()},
        "sd_spend_by_region": {int(k): float(v) for k, v in by.std().items()},
        "region_sizes": {int(k): int(v) for k, v in by.size().items()},
    }, description=f"A frame of {n} customers in 4 regions and ~100 stores.")
