"""Simulated qualitative data with known truth: focus-group transcripts coded by two coders
at a known agreement level, and open-ended survey answers with closed answers.

Coder model (both simulators)
-----------------------------
Each segment has a true set of codes. For every segment and code, coder ``c`` reproduces the
truth with probability ``r_c`` ("reliability") and otherwise guesses, applying the code with
probability ``p_k`` = the share of segments that truly carry code ``k``. Both coders then use
code ``k`` at the same rate ``p_k``, and their expected agreement is
``P_o = r_a r_b + (1 − r_a r_b) P_e`` with ``P_e = p_k² + (1 − p_k)²``, so the population
Cohen's kappa (and Krippendorff's alpha) of every code is exactly ``r_a · r_b``, whatever
``p_k``. ``truth["kappa"]`` is that known agreement level.

The texts are assembled from phrase banks written for the omnichannel customer-experience
codebook shipped as ``omnichannel_cx_codebook.yaml`` (:func:`example_path`); some phrases use
the codebook's keywords and some do not, and a few keywords appear out of context, so keyword
suggestions are useful but imperfect, as in real data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from researchkit.datasets.base import Simulated, check_positive_int, make_rng
from researchkit.errors import ParameterError

__all__ = ["CX_CODES", "simulate_focus_groups", "simulate_open_ends"]

#: The codable codes of the shipped omnichannel codebook, in codebook order.
CX_CODES = ("store", "online", "staff", "support", "delivery", "returns", "price", "loyalty",
            "personalisation", "consistency", "privacy")

SEGMENTS = ("Store-first", "Online-first", "Omnichannel")

# -- phrase banks: (negative, positive) phrases per code ----------------------------------------
_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "store": (
        ("the queue at the till was twenty minutes long",
         "I could never find my size on the shelf",
         "the shop is so crowded on Saturdays that I just walk out",
         "half the fitting rooms were closed again",
         "nothing is where it used to be since they moved everything around",
         "the store near me closes at eight, which is useless after work"),
        ("I like going to the store because I can touch things",
         "the new layout makes it easy to find what I need",
         "the self-checkout is quick when it works",
         "it's a pleasant place to browse on a weekend"),
    ),
    "online": (
        ("the app crashed twice while I was paying",
         "the search on the website never finds what I type",
         "I have to log in again every single time",
         "the pages take forever to load on my phone",
         "I gave up halfway through because the form kept resetting",
         "the filters don't work, you scroll for ages"),
        ("the app is really easy to use",
         "I order everything on the website in two minutes",
         "their site has good photos and reviews",
         "paying on my phone is quick now"),
    ),
    "staff": (
        ("the cashier didn't even look at me",
         "nobody on the floor could answer a simple question",
         "the assistant was rude when I asked for another size",
         "you can never find someone to help you",
         "the young guy just shrugged and said he doesn't work in that department"),
        ("the consultant really knew the products",
         "the staff are friendly and patient",
         "a lady in the store spent twenty minutes helping me choose",
         "the people working there actually care"),
    ),
    "support": (
        ("I was on hold for forty minutes and then they hung up",
         "the chat-bot kept sending me the same three answers",
         "I called the hotline three times and got three different answers",
         "nobody ever replied to my message in the messenger",
         "they passed me from one department to another",
         "I wrote a complaint and heard nothing for two weeks"),
        ("support sorted my problem out in one call",
         "the girl in the chat solved it in five minutes",
         "they answered my question in the messenger right away",
         "the operator called me back as promised"),
    ),
    "delivery": (
        ("the courier came a day late and didn't call",
         "my parcel arrived with the box crushed",
         "the pickup point is always closed when I get there",
         "they give you a delivery window of the whole day",
         "the order sat in some warehouse for a week",
         "shipping costs more than the thing itself"),
        ("delivery was next day, which was great",
         "I like that I can pick it up in the store on my way home",
         "the tracking told me exactly when it would arrive",
         "click and collect is really convenient"),
    ),
    "returns": (
        ("returning the jacket took three weeks to get my money back",
         "they wouldn't take it back without the receipt",
         "you can't return online orders in the store",
         "the refund still hasn't come"),
        ("returns are free and easy",
         "I took the shoes back and got a refund on the spot",
         "exchanging the size took two minutes"),
    ),
    "price": (
        ("their prices went up a lot this year",
         "it's just too expensive for what you get",
         "the discounts are fake, they raise the price first",
         "I compare with other shops and they are always more"),
        ("the prices are fair",
         "there is always some promotion going on",
         "good value for money, honestly",
         "I wait for the sale and buy everything then"),
    ),
    "loyalty": (
        ("the bonus points expire before you can use them",
         "the loyalty card is pointless, you get nothing for it",
         "I never understand how many points I have",
         "the member prices are only for things nobody wants"),
        ("I only shop there because of the bonus points",
         "the cashback adds up over a year",
         "being a member gets me early access to sales",
         "the card gives me a birthday discount every year"),
    ),
    "personalisation": (
        ("they send me three e-mails a day about things I never buy",
         "the push notifications drive me crazy",
         "the offers have nothing to do with me",
         "I unsubscribed from the newsletter because of the spam",
         "they keep advertising the fridge I already bought from them"),
        ("the recommendations are actually useful",
         "they sent me a personal offer for exactly what I needed",
         "I like getting a reminder when my favourite things are back",
         "the messages are rare but relevant"),
    ),
    "consistency": (
        ("the app said in stock, the store said they never had it",
         "the price online is different from the price in the store",
         "I had to repeat everything when I went from the chat to the phone",
         "the store couldn't see my online order at all",
         "it feels like three different companies depending on where you buy",
         "the promotion in the app doesn't work at the till"),
        ("I start on the app and finish in the store, and it all just works",
         "they know my order history whether I call or come in",
         "it's the same price everywhere, which I appreciate",
         "I reserved it online and it was waiting for me at the counter"),
    ),
    "privacy": (
        ("I don't like how much they know about me",
         "they ask for my phone number for everything",
         "I'm worried about what they do with my data",
         "why does a shop need my date of birth and address"),
        ("at least they ask before they use my data",
         "I trust them with my details",
         "they explained clearly what they keep about me"),
    ),
}

_FILLERS = ("I agree with that", "same for me, really", "hard to say", "it depends on the day",
            "I don't have a strong opinion", "yes, exactly", "I haven't thought about it",
            "I think that's true for most people")
_OPENERS = ("Honestly, ", "For me, ", "I think ", "To be fair, ", "Well, ", "", "", "", "")
_OUT_OF_CONTEXT = ("my sister works in a store, so I hear stories",
                   "my son installed some app for me, I don't use it much",
                   "it's on the way to the gym, that's all")
_NAMES = ("Anna", "Olga", "Boris", "Dmitry", "Maria", "James", "Sophie", "Li", "Ahmed", "Elena",
          "Ivan", "Tom", "Chloe", "Nina", "Pavel", "Sara", "Omar", "Kate", "Max", "Yuki",
          "Lucas", "Ines", "Viktor", "Hannah")
_SURNAMES = ("Ivanova", "Smith", "Petrov", "Garcia", "Chen", "Novak", "Brown", "Kowalski")
_CITIES = ("North", "Centre", "South")

#: Discussion-guide sections: (id, title, minutes, moderator question, code multipliers).
_SECTIONS: tuple[tuple[str, str, int, str, dict[str, float]], ...] = (
    ("intro", "Introduction and warm-up", 10,
     "Please introduce yourselves: where do you usually buy things like clothes and "
     "electronics, and why there?",
     {"store": 1.5, "online": 1.5, "price": 1.2}),
    ("journey", "Shopping across channels", 20,
     "Think about the last thing you bought from us. Where did you start, and where did you "
     "finish?",
     {"consistency": 1.6, "online": 1.4, "store": 1.3, "delivery": 1.2}),
    ("pain", "Problems and service", 25,
     "Tell me about a time something went wrong. What happened, and who helped you?",
     {"support": 2.0, "returns": 1.8, "delivery": 1.5, "staff": 1.5, "consistency": 1.3}),
    ("offers", "Offers, loyalty and messages", 20,
     "What do you think about our prices, the loyalty card and the messages we send you?",
     {"price": 2.0, "loyalty": 2.2, "personalisation": 2.2, "privacy": 1.8}),
    ("ideal", "The ideal experience", 10,
     "If you could change one thing about buying from us, what would it be?",
     {"consistency": 1.8, "support": 1.2, "online": 1.2}),
    ("wrapup", "Wrap-up", 5,
     "Anything we haven't talked about that matters to you?", {}),
)
_PROBES = ("Thanks, {name}. What about the others?", "Can you say more about that, {name}?",
           "Does anyone feel differently?", "Who else has had that experience?",
           "Interesting. {name}, what would you expect instead?")

_BASE_P = {"store": 0.14, "online": 0.14, "staff": 0.09, "support": 0.09, "delivery": 0.10,
           "returns": 0.06, "price": 0.12, "loyalty": 0.08, "personalisation": 0.08,
           "consistency": 0.10, "privacy": 0.05}
_SEGMENT_MULT = {
    "Store-first": {"store": 1.6, "staff": 1.8, "online": 0.5, "delivery": 0.5,
                    "personalisation": 0.8},
    "Online-first": {"online": 1.6, "delivery": 1.8, "returns": 1.4, "store": 0.5,
                     "staff": 0.4},
    "Omnichannel": {"consistency": 2.0, "loyalty": 1.4, "personalisation": 1.3},
}


def _hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def _sentence(rng: np.random.Generator, codes: list[str], valence_neg: float) -> str:
    parts = []
    for code in rng.permutation(codes):
        neg, pos = _PHRASES[str(code)]
        bank = neg if rng.random() < valence_neg else pos
        parts.append(bank[rng.integers(len(bank))])
    if not parts:
        if rng.random() < 0.25:
            parts.append(_OUT_OF_CONTEXT[rng.integers(len(_OUT_OF_CONTEXT))])
        else:
            parts.append(_FILLERS[rng.integers(len(_FILLERS))])
    text = ", and ".join(parts) if len(parts) <= 2 else ". Also, ".join(parts)
    opener = _OPENERS[rng.integers(len(_OPENERS))]
    text = opener + text
    return text[0].upper() + text[1:] + "."


def _check_reliability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ParameterError("must be a number between 0 and 1", parameter=name, got=value)
    return float(value)


def _code(rng: np.random.Generator, truth: np.ndarray, reliability: float,
          prevalence: np.ndarray) -> np.ndarray:
    """Coder model: copy the truth with probability r, else guess at the code's prevalence."""
    copy = rng.random(truth.shape) < reliability
    guess = rng.random(truth.shape) < prevalence[None, :]
    return np.where(copy, truth, guess)


def _to_codings(ids: np.ndarray, matrix: np.ndarray, coder: str) -> pd.DataFrame:
    rows, cols = np.nonzero(matrix)
    return pd.DataFrame({"segment": ids[rows], "code": np.array(CX_CODES)[cols],
                         "coder": coder, "source": "human"})


def simulate_focus_groups(
    n_groups: int = 4,
    *,
    participants: tuple[int, int] = (8, 10),
    kappa: float = 0.8,
    turns_per_minute: float = 1.2,
    seed: int = 0,
) -> Simulated:
    """Focus groups on the omnichannel customer experience, coded by two coders.

    Parameters
    ----------
    n_groups : int
        Number of focus groups (documents), each about 90 minutes with a moderator following
        the shipped discussion guide (six timed sections).
    participants : (int, int)
        Range of screened participants per group (inclusive; focus groups have 6-12).
    kappa : float
        The known agreement level: both coders have reliability ``r = sqrt(kappa)``, so the
        population kappa/alpha of every code is ``kappa`` (see the module docstring).
    turns_per_minute : float
        Participant turns per minute of discussion.
    seed : int

    Returns
    -------
    Simulated
        ``data`` is a dict:

        * ``transcripts``: ``{document: text}`` in ``[hh:mm:ss] Speaker: text`` format with a
          one-line title (parse with ``parse_transcript(text, header_lines=1)``);
        * ``segments``: the parsed segments table (what ``parse_transcript`` returns);
        * ``participants``: the screener (``participant, document, name, age, age_group,
          gender, customer_segment, channels, purchases_per_month, loyalty_member, city``);
        * ``codings``: the two coders' codings (``coder_a``, ``coder_b``) of participant turns;
        * ``adjudications``: the coders' disagreements with the lead researcher's decisions
          (the true codes);
        * ``true_codings``: the true codes (coder ``truth``).

        ``truth`` holds ``kappa``, ``reliability``, ``prevalence`` (true share of participant
        turns per code), ``expected_percent_agreement`` per code and
        ``expected_share_by_segment`` (mean probability of each code among turns of each
        customer segment).
    """
    n_groups = check_positive_int(n_groups, "n_groups")
    kappa = _check_reliability(kappa, "kappa")
    lo, hi = participants if isinstance(participants, tuple | list) and len(participants) == 2 \
        else (None, None)
    if not (isinstance(lo, int) and isinstance(hi, int) and 2 <= lo <= hi <= len(_NAMES)):
        raise ParameterError("invalid participant range", parameter="participants",
                             expected=f"(min, max) with 2 <= min <= max <= {len(_NAMES)}",
                             got=participants)
    if not isinstance(turns_per_minute, int | float) or turns_per_minute <= 0:
        raise ParameterError("must be positive", parameter="turns_per_minute",
                             got=turns_per_minute)
    rng = make_rng(seed)
    r = float(np.sqrt(kappa))
    screener = []
    seg_rows: list[dict[str, Any]] = []
    probs_rows: list[np.ndarray] = []
    truth_rows: list[np.ndarray] = []
    transcripts: dict[str, str] = {}
    for g in range(1, n_groups + 1):
        doc = f"fg{g}"
        k = int(rng.integers(lo, hi + 1))
        names = list(rng.choice(_NAMES, size=k, replace=False))
        people = []
        for j, name in enumerate(names, start=1):
            segment = SEGMENTS[int(rng.choice(3, p=[0.35, 0.35, 0.30]))]
            age = int(rng.integers(20, 66))
            channels = ["store"] if segment == "Store-first" else ["website", "app"] \
                if segment == "Online-first" else ["store", "website", "app"]
            extra = [c for c in ("call centre", "messenger", "e-mail") if rng.random() < 0.4]
            people.append({
                "participant": f"FG{g}-P{j:02d}", "document": doc, "name": str(name),
                "age": age, "age_group": "18-34" if age < 35 else "35-49" if age < 50
                else "50-65", "gender": ["female", "male"][int(rng.integers(2))],
                "customer_segment": segment, "channels": "; ".join(channels + extra),
                "purchases_per_month": int(rng.integers(1, 9)),
                "loyalty_member": bool(rng.random() < (0.7 if segment == "Omnichannel"
                                                        else 0.45)),
                "city": _CITIES[int(rng.integers(3))],
            })
        screener.extend(people)
        talk = rng.gamma(2.0, 1.0, size=k)
        talk /= talk.sum()
        lines = [f"Focus group {g}: buying from us across channels (moderated, 90 minutes)"]
        clock = 0.0
        turn = 0
        last_speaker = None
        for sec_id, _title, minutes, question, mult in _SECTIONS:
            section_end = clock + minutes * 60
            turn += 1
            lines.append(f"[{_hms(clock)}] Moderator: {question}")
            seg_rows.append({"segment": f"{doc}:{turn}", "document": doc, "turn": turn,
                             "speaker": "Moderator", "role": "moderator", "start": clock,
                             "text": question, "line": len(lines), "section": sec_id})
            probs_rows.append(np.full(len(CX_CODES), np.nan))
            truth_rows.append(np.zeros(len(CX_CODES), bool))
            clock += float(rng.uniform(8, 20))
            n_turns = max(3, int(rng.poisson(minutes * turns_per_minute)))
            step = (section_end - clock) / (n_turns + n_turns // 4 + 1)
            for t in range(n_turns):
                if t and t % 4 == 0:
                    probe = _PROBES[int(rng.integers(len(_PROBES)))].format(
                        name=last_speaker or names[0])
                    turn += 1
                    lines.append(f"[{_hms(clock)}] Moderator: {probe}")
                    seg_rows.append({"segment": f"{doc}:{turn}", "document": doc,
                                     "turn": turn, "speaker": "Moderator",
                                     "role": "moderator", "start": clock, "text": probe,
                                     "line": len(lines), "section": sec_id})
                    probs_rows.append(np.full(len(CX_CODES), np.nan))
                    truth_rows.append(np.zeros(len(CX_CODES), bool))
                    clock += step * float(rng.uniform(0.6, 1.0))
                who = int(rng.choice(k, p=talk))
                person = people[who]
                p = np.array([min(0.85, _BASE_P[c] * mult.get(c, 1.0)
                                  * _SEGMENT_MULT[person["customer_segment"]].get(c, 1.0))
                              for c in CX_CODES])
                if sec_id == "wrapup":
                    p = p * 0.6
                has = rng.random(len(CX_CODES)) < p
                text = _sentence(rng, [c for c, h in zip(CX_CODES, has, strict=True) if h],
                                 valence_neg=0.65 if sec_id in ("pain", "ideal") else 0.45)
                if rng.random() < 0.08 and k > 1:
                    other = names[(who + 1 + int(rng.integers(k - 1))) % k]
                    text = f"Like {other} said, {text[0].lower()}{text[1:]}"
                if rng.random() < 0.03:
                    first = person["name"].lower()
                    last = _SURNAMES[int(rng.integers(len(_SURNAMES)))].lower()
                    text += (f" You can e-mail me at {first}.{last}@example.com."
                             if rng.random() < 0.5 else
                             f" My number is +44 7700 900{int(rng.integers(100, 999))}.")
                turn += 1
                lines.append(f"[{_hms(clock)}] {person['name']}: {text}")
                seg_rows.append({"segment": f"{doc}:{turn}", "document": doc, "turn": turn,
                                 "speaker": person["name"], "role": "participant",
                                 "start": clock, "text": text, "line": len(lines),
                                 "section": sec_id})
                probs_rows.append(p)
                truth_rows.append(has)
                last_speaker = person["name"]
                clock += step * float(rng.uniform(0.8, 1.2))
            clock = max(clock, section_end)
        transcripts[doc] = "\n".join(lines) + "\n"
    segments = pd.DataFrame(seg_rows)
    segments["end"] = np.nan
    segments["start"] = segments["start"].round()
    segments = segments[["segment", "document", "turn", "speaker", "role", "start", "end",
                         "text", "line", "section"]]
    truth_m = np.array(truth_rows)
    probs = np.array(probs_rows)
    part = segments["role"].eq("participant").to_numpy()
    ids = segments["segment"].to_numpy()
    prevalence = truth_m[part].mean(axis=0)
    coder_a = _code(rng, truth_m[part], r, prevalence)
    coder_b = _code(rng, truth_m[part], r, prevalence)
    codings = pd.concat([_to_codings(ids[part], coder_a, "coder_a"),
                         _to_codings(ids[part], coder_b, "coder_b")], ignore_index=True)
    true_codings = _to_codings(ids[part], truth_m[part], "truth")
    differ = coder_a != coder_b
    rows, cols = np.nonzero(differ)
    adjudications = pd.DataFrame({
        "segment": ids[part][rows], "code": np.array(CX_CODES)[cols],
        "decision": np.where(truth_m[part][rows, cols], "apply", "reject")})
    screener_df = pd.DataFrame(screener)
    seg_of = dict(zip(screener_df["document"] + "/" + screener_df["name"],
                      screener_df["customer_segment"], strict=True))
    turn_segment = (segments["document"] + "/" + segments["speaker"]).map(seg_of).to_numpy()
    expected_by_segment = {
        s: dict(zip(CX_CODES, probs[part & (turn_segment == s)].mean(axis=0).tolist(),
                    strict=True))
        for s in SEGMENTS if (part & (turn_segment == s)).any()}
    pe = prevalence**2 + (1 - prevalence) ** 2
    truth = {
        "kappa": kappa, "reliability": {"coder_a": r, "coder_b": r},
        "prevalence": dict(zip(CX_CODES, prevalence.tolist(), strict=True)),
        "expected_percent_agreement": dict(zip(CX_CODES, (kappa + (1 - kappa) * pe).tolist(),
                                               strict=True)),
        "expected_share_by_segment": expected_by_segment,
        "n_participant_turns": int(part.sum()),
    }
    data = {"transcripts": transcripts, "segments": segments, "participants": screener_df,
            "codings": codings, "adjudications": adjudications, "true_codings": true_codings}
    return Simulated(data=data, truth=truth, description=(
        f"{n_groups} simulated 90-minute focus groups ({lo}-{hi} screened participants and a "
        f"moderator each) about buying across channels; participant turns coded with the "
        f"omnichannel CX codebook by two coders whose population kappa is {kappa:g} per code."))


def simulate_open_ends(
    n: int = 1000,
    *,
    reliability: float = 0.9,
    double_coded: float = 0.2,
    empty_share: float = 0.05,
    seed: int = 0,
) -> Simulated:
    """Open answers to "Why did you give this satisfaction score?" with closed answers.

    A customer-experience survey of a retailer selling through stores, website, app, call
    centre and messengers: each respondent has a segment (``Store-first``, ``Online-first``,
    ``Omnichannel``), the channels they used in the last three months, a satisfaction score
    (1-5) and the open answer. Which topics an answer raises depends on the segment and the
    score (dissatisfied customers talk about support, delivery and inconsistency between
    channels), and the tone follows the score.

    Parameters
    ----------
    n : int
        Respondents.
    reliability : float
        Both coders' reliability ``r``; the population kappa between them is ``r²``.
    double_coded : float
        Share of answers also coded by a second coder (for reliability).
    empty_share : float
        Share of respondents who leave the open question blank.
    seed : int

    Returns
    -------
    Simulated
        ``data``: ``responses`` (``respondent_id, customer_segment, age_group, channels``,
        ``ch_*`` flags, ``n_channels, satisfaction, satisfaction_group, why``),
        ``codings`` (``coder_a`` on every non-empty answer, ``coder_b`` on the double-coded
        share), ``assignments`` (which answers each coder reviewed; segment ids are
        ``why:<respondent_id>``), ``true_codings``.
        ``truth``: ``kappa`` (= r²), ``reliability``, ``expected_share`` per code by segment
        and by satisfaction group (mean probability among non-empty answers), ``prevalence``.
    """
    n = check_positive_int(n, "n", minimum=10)
    reliability = _check_reliability(reliability, "reliability")
    double_coded = _check_reliability(double_coded, "double_coded")
    empty_share = _check_reliability(empty_share, "empty_share")
    rng = make_rng(seed)
    seg = np.array(SEGMENTS)[rng.choice(3, size=n, p=[0.35, 0.35, 0.30])]
    age_group = np.array(["18-34", "35-49", "50-65"])[rng.choice(3, size=n, p=[0.4, 0.35,
                                                                                0.25])]
    chan_p = {"store": {"Store-first": 0.95, "Online-first": 0.35, "Omnichannel": 0.9},
              "website": {"Store-first": 0.3, "Online-first": 0.9, "Omnichannel": 0.85},
              "app": {"Store-first": 0.15, "Online-first": 0.75, "Omnichannel": 0.8},
              "call_centre": {"Store-first": 0.15, "Online-first": 0.25, "Omnichannel": 0.3},
              "messenger": {"Store-first": 0.1, "Online-first": 0.3, "Omnichannel": 0.35}}
    flags = {c: rng.random(n) < np.array([chan_p[c][s] for s in seg]) for c in chan_p}
    n_channels = np.sum([f for f in flags.values()], axis=0)
    # satisfaction: omnichannel customers whose channels are joined up are happier
    base = np.where(seg == "Omnichannel", 3.7, np.where(seg == "Online-first", 3.4, 3.5))
    latent = base + 0.1 * (n_channels - 2) + rng.normal(0, 1.0, n)
    sat = np.clip(np.round(latent), 1, 5).astype(int)
    sat_group = np.where(sat <= 2, "dissatisfied", np.where(sat == 3, "neutral", "satisfied"))
    sat_mult = {
        "dissatisfied": {"support": 2.6, "delivery": 1.8, "consistency": 2.2, "returns": 1.8,
                         "price": 1.3, "loyalty": 0.5, "staff": 1.2},
        "neutral": {"price": 1.4, "personalisation": 1.3},
        "satisfied": {"staff": 1.5, "loyalty": 1.8, "price": 1.2, "support": 0.5,
                      "consistency": 0.7, "online": 1.2},
    }
    probs = np.array([[min(0.8, _BASE_P[c] * 1.3 * _SEGMENT_MULT[s].get(c, 1.0)
                           * sat_mult[g].get(c, 1.0)) for c in CX_CODES]
                      for s, g in zip(seg, sat_group, strict=True)])
    has = rng.random(probs.shape) < probs
    empty = rng.random(n) < empty_share
    texts = []
    for i in range(n):
        if empty[i]:
            texts.append(None)
            continue
        codes = [c for c, h in zip(CX_CODES, has[i], strict=True) if h]
        texts.append(_sentence(rng, codes, valence_neg={1: 0.95, 2: 0.85, 3: 0.6, 4: 0.25,
                                                        5: 0.1}[int(sat[i])]))
    ids = np.array([f"R{i + 1:05d}" for i in range(n)])
    responses = pd.DataFrame({
        "respondent_id": ids, "customer_segment": seg, "age_group": age_group,
        "channels": ["; ".join(c for c in chan_p if flags[c][i]) for i in range(n)],
        **{f"ch_{c}": flags[c] for c in chan_p},
        "n_channels": n_channels, "satisfaction": sat, "satisfaction_group": sat_group,
        "why": texts,
    })
    answered = ~empty
    truth_m = has[answered]
    seg_ids = np.array([f"why:{v}" for v in ids[answered]])
    prevalence = truth_m.mean(axis=0)
    coder_a = _code(rng, truth_m, reliability, prevalence)
    second = rng.random(answered.sum()) < double_coded
    coder_b = _code(rng, truth_m[second], reliability, prevalence)
    codings = pd.concat([_to_codings(seg_ids, coder_a, "coder_a"),
                         _to_codings(seg_ids[second], coder_b, "coder_b")], ignore_index=True)
    true_codings = _to_codings(seg_ids, truth_m, "truth")
    pa = probs[answered]

    def by(values: np.ndarray) -> dict[str, dict[str, float]]:
        return {str(v): dict(zip(CX_CODES, pa[values[answered] == v].mean(axis=0).tolist(),
                                 strict=True)) for v in sorted(set(values[answered]))}

    truth = {
        "kappa": reliability**2, "reliability": {"coder_a": reliability,
                                                 "coder_b": reliability},
        "prevalence": dict(zip(CX_CODES, prevalence.tolist(), strict=True)),
        "expected_share_by_segment": by(seg),
        "expected_share_by_satisfaction": by(sat_group),
        "n_answered": int(answered.sum()), "n_double_coded": int(second.sum()),
    }
    assignments = pd.concat([
        pd.DataFrame({"segment": seg_ids, "coder": "coder_a"}),
        pd.DataFrame({"segment": seg_ids[second], "coder": "coder_b"})], ignore_index=True)
    return Simulated(
        data={"responses": responses, "codings": codings, "assignments": assignments,
              "true_codings": true_codings},
        truth=truth,
        description=(f"{n} simulated answers to an omnichannel CX survey: segment, channels "
                     f"used, satisfaction 1-5 and the open 'why' answer; every answer coded by "
                     f"coder_a, {double_coded:.0%} also by coder_b (population kappa "
                     f"{reliability**2:.2f})."))
