from amparo.signals.classifiers.prompt.normalise import tokenise
from amparo.signals.classifiers.prompt.rules import canonical_tokens


def test_plain_text_is_lowercased_and_accents_removed() -> None:
    assert tokenise("Niña DESNUDA") == ["nina", "desnuda"]


def test_zero_width_and_soft_hyphen_are_removed() -> None:
    assert tokenise("n\u200bu\u00add\u2060e") == ["nude"]


def test_confusable_letters_become_latin() -> None:
    assert tokenise("сһіld") == ["child"]  # Cyrillic letters


def test_fullwidth_and_math_letters_fold() -> None:
    assert tokenise("ＮＵＤＥ 𝐧𝐮𝐝𝐞") == ["nude", "nude"]


def test_leetspeak_is_undone_but_ages_stay_numbers() -> None:
    assert tokenise("n4k3d t33n 12yo") == ["naked", "teen", "12", "yo"]


def test_spaced_and_dotted_letters_are_joined() -> None:
    assert tokenise("n.u.d.e") == ["nude"]
    assert canonical_tokens("n u d e p i c of a c h i l d") == ["nude", "pic", "of", "a", "child"]


def test_y_o_stays_an_age_unit() -> None:
    assert tokenise("a 9 y.o. girl") == ["a", "9", "yo", "girl"]


def test_spaced_words_run_together_are_split_again() -> None:
    assert canonical_tokens("a t o d d l e r") == ["a", "toddler"]


def test_repeated_letters_and_misspellings_are_corrected() -> None:
    assert canonical_tokens("nuuuude chidl") == ["nude", "child"]


def test_emoji_standing_for_words() -> None:
    assert tokenise("👧 🔞") == ["little", "girl", "explicit"]


def test_similar_benign_words_are_not_corrected_into_triggers() -> None:
    assert canonical_tokens("exotic baked nodes") == ["exotic", "baked", "nodes"]
