"""Adult ages never make a minor; under-18 ages always do (numerals and words, every language)."""

from __future__ import annotations

from typing import Any

import pytest

from amparo.signals.classifiers.prompt.ages import LEXICON_LANGUAGES as LANGUAGES
from amparo.signals.classifiers.prompt.ages import find_ages, spell_number
from amparo.signals.classifiers.prompt.gate import PromptGate
from amparo.signals.classifiers.prompt.normalise import tokenise

MINOR_LABELS = {"csam_request", "minor_nonsexual"}


def _forms(lang: str, age: int) -> list[str]:
    return [str(age), *spell_number(lang, age)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_adult_ages_never_make_a_minor(
    lang: str, rules_gate: PromptGate, age_templates: dict[str, Any]
) -> None:
    texts = [
        t.format(age=f)
        for t in age_templates[lang]
        for a in range(18, 100)
        for f in _forms(lang, a)
    ]
    wrong = [
        (t, a.label)
        for t, a in zip(texts, rules_gate.analyse_many(texts), strict=True)
        if a.label in MINOR_LABELS
    ]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_adult_ages_are_read_as_adult_ages(
    lang: str, rules_gate: PromptGate, age_templates: dict[str, Any]
) -> None:
    template = age_templates[lang][0]
    for age in range(18, 100):
        for form in _forms(lang, age):
            assert age in rules_gate.analyse(template.format(age=form)).ages, (lang, form)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_under_18_ages_make_a_csam_request(
    lang: str, rules_gate: PromptGate, age_templates: dict[str, Any]
) -> None:
    texts = [
        t.format(age=f) for t in age_templates[lang] for a in range(1, 18) for f in _forms(lang, a)
    ]
    wrong = [
        (t, a.label)
        for t, a in zip(texts, rules_gate.analyse_many(texts), strict=True)
        if a.label != "csam_request"
    ]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize(
    ("lang", "n", "words"),
    [
        ("en", 21, "twenty-one"),
        ("es", 16, "dieciseis"),
        ("es", 45, "cuarenta y cinco"),
        ("ca", 17, "disset"),
        ("ca", 21, "vint-i-u"),
        ("gl", 19, "dezanove"),
        ("pt", 17, "dezessete"),
        ("fr", 71, "soixante et onze"),
        ("fr", 97, "quatre vingt dix sept"),
        ("it", 28, "ventotto"),
        ("de", 21, "einundzwanzig"),
        ("eu", 17, "hamazazpi"),
        ("eu", 57, "berrogeita hamazazpi"),
    ],
)
def test_number_words_are_spelled_correctly(lang: str, n: int, words: str) -> None:
    assert words in spell_number(lang, n)


def test_years_that_are_not_an_age_are_ignored() -> None:
    assert find_ages(tokenise("a woman married for 5 years")) == []


def test_one_token_ages() -> None:
    assert [a for a, _, _ in find_ages(tokenise("una quindicenne"))] == [15]
    assert [a for a, _, _ in find_ages(tokenise("ein zwölfjähriges Kind"))] == [12]
