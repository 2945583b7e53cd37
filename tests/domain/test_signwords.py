"""Words that name a warning sign (bot/domain/signwords.py, clinical.md §2 last paragraph)."""

from __future__ import annotations

import pytest

from bot.domain.safety import CHECK_IN_SIGNALS, SIGNALS, Tier
from bot.domain.signwords import PHRASES, signs_named

# Several everyday phrasings of each EMERGENCY and URGENT sign, in English and in French.
NAMED: list[tuple[str, str]] = [
    # 1. Saddle area
    ("numb down there", "saddle"),
    ("I'm NUMB between my legs", "saddle"),
    ("pins and needles around my back passage", "saddle"),
    ("it feels different when I wipe", "saddle"),
    ("engourdi entre les jambes", "saddle"),
    ("Je ne sens plus rien entre les jambes", "saddle"),
    ("fourmillements à l’intérieur des cuisses", "saddle"),
    ("une sensation différente quand je m'essuie", "saddle"),
    # 2. Bladder
    ("can't pee", "bladder"),
    ("I cannot urinate since this morning", "bladder"),
    ("I wet myself", "bladder"),
    ("trouble peeing", "bladder"),
    ("my bladder feels odd", "bladder"),
    ("je n'arrive pas à uriner", "bladder"),
    ("JE N’ARRIVE PLUS A URINER", "bladder"),
    ("fuites", "bladder"),
    ("j'ai des fuites urinaires", "bladder"),
    ("le jet est plus faible", "bladder"),
    # 3. Bowel
    ("I lost control of my bowels", "bowel"),
    ("I soiled myself", "bowel"),
    ("can't hold my poo", "bowel"),
    ("je ne contrôle plus mes selles", "bowel"),
    ("problème d'intestins", "bowel"),
    ("incontinence fécale", "bowel"),
    # 4. Both legs
    ("both legs", "both_legs"),
    ("pain in both my legs", "both_legs"),
    ("it has spread to the other leg", "both_legs"),
    ("les deux jambes", "both_legs"),
    ("mal aux 2 jambes", "both_legs"),
    ("la douleur est passée à l’autre jambe", "both_legs"),
    # 5. Both legs weak or numb
    ("my legs are weak", "both_legs_weakness"),
    ("my legs keep giving way", "both_legs_weakness"),
    ("j'ai les jambes en coton", "both_legs_weakness"),
    ("mes jambes sont engourdies", "both_legs_weakness"),
    # 6. Sexual
    ("I can't get an erection", "sexual"),
    ("problems ejaculating", "sexual"),
    ("troubles de l'érection", "sexual"),
    ("je n'arrive plus à bander", "sexual"),
    # 7. Unsteady, or spreading
    ("I feel unsteady when I walk", "unsteady"),
    ("I keep losing my balance", "unsteady"),
    ("my hands are numb", "unsteady"),
    ("je perds l'équilibre", "unsteady"),
    ("je titube", "unsteady"),
    ("des fourmillements dans les bras", "unsteady"),
    # 8. One leg getting weaker, foot drop
    ("my left leg is getting weaker", "leg_weakness"),
    ("my toes catch on the floor", "leg_weakness"),
    ("I can't walk on my heels", "leg_weakness"),
    ("I have a foot drop", "leg_weakness"),
    ("ma jambe lâche", "leg_weakness"),
    ("mon pied traîne", "leg_weakness"),
    ("je trébuche tout le temps", "leg_weakness"),
    # 9. Fever, unwell
    ("I have a fever", "fever"),
    ("chills and night sweats", "fever"),
    ("I feel really unwell", "fever"),
    ("j'ai de la fièvre", "fever"),
    ("des frissons et des sueurs", "fever"),
    ("je me sens malade", "fever"),
    # 10. Fall, accident, injury
    ("I fell down the stairs", "injury"),
    ("it started after a car accident", "injury"),
    ("I slipped on ice", "injury"),
    ("je suis tombée hier", "injury"),
    ("après une chute", "injury"),
    ("je me suis blessé au travail", "injury"),
]

# Must not match: ordinary questions, answers and pain talk.
NOT_NAMED = [
    "my legs are fine",
    "what should I do if it hurts?",
    "j'ai mal au dos ce matin, que faire ?",
    "my leg hurts",
    "pain in my buttock",
    "Leg pain 6/10",
    "6",
    "07:30",
    "Europe/Paris",
    "il est 7 h 00",
    "I fell asleep on the sofa",
    "no fever",
    "I don't have a fever",
    "pas de fièvre",
    "sans fièvre",
    "thanks, done",
    "merci, ça va mieux",
    "I do the exercises in the evening",
    "hello",
    "",
]


@pytest.mark.parametrize(("text", "sign"), NAMED)
def test_words_name_the_sign(text: str, sign: str) -> None:
    assert sign in signs_named(text)


@pytest.mark.parametrize("text", NOT_NAMED)
def test_ordinary_text_names_no_sign(text: str) -> None:
    assert signs_named(text) == ()


def test_every_emergency_and_urgent_sign_has_words_in_both_languages() -> None:
    urgent = {s for s in CHECK_IN_SIGNALS if SIGNALS[s].tier >= Tier.URGENT}
    assert set(PHRASES) == urgent
    assert len(urgent) == 10
    covered = {sign for _, sign in NAMED}
    assert covered == urgent
    for sign in urgent:
        texts = [t for t, s in NAMED if s == sign]
        assert len(texts) >= 4, sign


def test_signs_come_in_the_checklist_order_and_a_negation_is_local() -> None:
    assert signs_named("I have a fever, and both legs are numb") == (
        "both_legs",
        "both_legs_weakness",
        "fever",
    )
    assert signs_named("no fever but I can't pee") == ("bladder",)
    assert signs_named("pas de fièvre, mais des fuites") == ("bladder",)


def test_numb_between_the_legs_is_not_both_legs_weak() -> None:
    assert signs_named("engourdi entre les jambes") == ("saddle",)
    assert signs_named("numb between my legs") == ("saddle",)
