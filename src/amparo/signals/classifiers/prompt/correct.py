"""Spelling correction that never invents: misspellings, leetspeak and letter repeats
read back into lexicon terms, unless the token is itself a word of a supported language."""

from __future__ import annotations

from operator import and_, itemgetter
from typing import NamedTuple

from .lexicons import FUZZY_MIN_LEN, INFLECTIONS, Lexicon, _deletes, load_lexicon
from .normalise import Token, deleet, prepare, raw_tokens, skeleton, spaced_runs, token_parts
from .words import corrections_enabled, is_word


def _candidate(token: str, lexicon: Lexicon) -> tuple[str, str]:
    """The lexicon term an unknown token may misspell, and how: "leet" (digits read as
    letters), "repeat" (letters doubled), "fuzzy" (a letter dropped, added or swapped, or a
    doubled letter moved). ("", "") when none."""
    if token.isdigit():
        # "350" is no age: it may be leetspeak for a deciding word ("eso")
        if len(token) >= 3 and int(token) > 120:
            letters = deleet(token)
            if letters in lexicon.fuzzy_terms:
                return letters, "leet"
        return "", ""
    if token in lexicon.vocabulary or len(token) < 3:
        return "", ""
    sk = skeleton(token)
    if sk in lexicon.skeletons and (sk != token or len(token) >= 4):  # "nuu" → "nu"
        term = lexicon.skeletons[sk]
        return term, ("repeat" if skeleton(term) == term else "fuzzy")
    if len(token) < 4:
        return "", ""
    if token in lexicon.deletions and lexicon.deletions[token][0] == token[0]:  # a letter dropped
        return lexicon.deletions[token], "fuzzy"
    if len(token) < FUZZY_MIN_LEN:
        return "", ""
    for d in _deletes(token):  # a letter added or two letters swapped
        if d in lexicon.fuzzy_terms and d[0] == token[0]:
            return d, "fuzzy"
        if d in lexicon.deletions and lexicon.deletions[d][0] == token[0]:
            cand = lexicon.deletions[d]
            if sorted(cand) == sorted(token):
                return cand, "fuzzy"
    return "", ""


def _inflects(token: str, term: str) -> bool:
    """`token` is `term` with one inflection letter added ("erotisches" ← "erotische",
    "kinder" ← "kind"): correcting it names the same thing, so it invents nothing."""
    return len(term) >= 4 and len(token) == len(term) + 1 and token.startswith(term) and token[-1] in INFLECTIONS


def _correct(token: str, lexicon: Lexicon, *, obfuscated: bool = False) -> str:
    """Map an unknown token to the lexicon term it misspells, unless the token is itself a
    word of a supported language ("shot" never becomes "shota", "nice" never "niece").
    `obfuscated`: the token had a run of 3+ letters, so it is no word as written.
    Without the word lists only letter repeats and digit leetspeak are undone."""
    term, how = _candidate(token, lexicon)
    if not term:
        return token
    if not obfuscated and is_word(token) and not _inflects(token, term):
        return token
    if how == "fuzzy" and not corrections_enabled():
        return token
    return term


MAX_PARTS = 4


def _segment(token: str, lexicon: Lexicon) -> list[str] | None:
    """Split letters that were spaced out together ("atoddler", "nudepic") into words.

    Known words cost 1, unknown stretches (3+ letters) cost 3; the cheapest split
    wins, and it must contain at least one known word of 4+ letters.
    """
    n = len(token)
    if n > 40:
        return None
    inf = float("inf")
    cost = [inf] * (n + 1)
    back: list[list[str]] = [[] for _ in range(n + 1)]
    cost[0] = 0.0
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            if cost[start] == inf or len(back[start]) >= MAX_PARTS:
                continue
            part = token[start:end]
            if start == 0 and end == n:
                continue
            if part in lexicon.vocabulary or skeleton(part) in lexicon.skeletons:
                step = 1.0 - 0.02 * min(len(part), 6) ** 2  # longer known words win ties
            elif len(part) >= 3:
                step = 3.0
            else:
                continue
            if cost[start] + step < cost[end]:
                cost[end] = cost[start] + step
                back[end] = [*back[start], part]
    parts = back[n]
    if len(parts) < 2 or not any(len(p) >= 4 and p in lexicon.vocabulary for p in parts):
        return None
    return parts


class CanonicalToken(NamedTuple):  # a tuple: long texts make one per word
    text: str
    start: int  # span in the original prompt
    end: int
    corrected: bool  # a misspelling, leetspeak or fuzzy correction produced this word


# Words repeat (Zipf): their correction is kept per lexicon, so long texts stay fast.
_CANON_CACHE: dict[tuple[int, str, bool], tuple[tuple[str, bool], ...]] = {}
_CANON_CACHE_MAX = 200_000


def _canonical_word(word: str, squeezed: bool, lexicon: Lexicon) -> tuple[tuple[str, bool], ...]:
    """(word, corrected) pairs for one plain token: a known misspelling or a fuzzy correction."""
    key = (id(lexicon), word, squeezed)
    hit = _CANON_CACHE.get(key)
    if hit is not None:
        return hit
    fixed = lexicon.misspellings.get(word)
    if fixed is not None:
        out = tuple((f, True) for f in fixed)
    else:
        corrected = _correct(word, lexicon, obfuscated=squeezed)
        out = ((corrected, corrected != word),)
    if len(_CANON_CACHE) >= _CANON_CACHE_MAX:
        _CANON_CACHE.clear()
    _CANON_CACHE[key] = out
    return out


# Per raw token (as matched in the normalised text): its canonical words, each with whether
# leetspeak, squeezing or correction produced it. Raw tokens repeat as words do.
_RAW_CACHE: dict[tuple[int, str], tuple[tuple[str, bool], ...]] = {}


def _canonical_raw(raw: str, lexicon: Lexicon) -> tuple[tuple[str, bool], ...]:
    key = (id(lexicon), raw)
    hit = _RAW_CACHE.get(key)
    if hit is not None:
        return hit
    out: list[tuple[str, bool]] = []
    for word, leet, squeezed in token_parts(raw):
        out += [(w, leet or corrected) for w, corrected in _canonical_word(word, squeezed, lexicon)]
    if len(_RAW_CACHE) >= _CANON_CACHE_MAX:
        _RAW_CACHE.clear()
    _RAW_CACHE[key] = found = tuple(out)
    return found


def _plain_spans(clean: str, index: list[int], lo: int, hi: int, lexicon: Lexicon, out: list[CanonicalToken]) -> None:
    for m in raw_tokens(clean, lo, hi):
        start, end = index[m.start()], index[m.end() - 1] + 1
        for w, corrected in _canonical_raw(m.group(0), lexicon):
            out.append(CanonicalToken(w, start, end, corrected))


def _joined_spans(tok: Token, lexicon: Lexicon, out: list[CanonicalToken]) -> None:
    """A token rebuilt from spaced-out letters: it may hold several words run together."""
    word = tok.text
    if word not in lexicon.vocabulary:
        parts = _segment(word, lexicon)
        if parts:
            for p in parts:
                fixed_part = _correct(p, lexicon, obfuscated=True)
                out.append(CanonicalToken(fixed_part, tok.start, tok.end, tok.changed or fixed_part != p))
            return
    for w, corrected in _canonical_word(word, tok.squeezed, lexicon):
        out.append(CanonicalToken(w, tok.start, tok.end, tok.changed or corrected))


def canonical_spans(text: str, lexicon: Lexicon | None = None) -> list[CanonicalToken]:
    """Tokens after normalisation, known misspellings and fuzzy correction, with their spans."""
    lexicon = lexicon or load_lexicon()
    clean, index = prepare(text)
    out: list[CanonicalToken] = []
    pos = 0
    for start, end, joined in spaced_runs(clean):
        _plain_spans(clean, index, pos, start, lexicon, out)
        s0, e0 = index[start], index[end - 1] + 1
        for m in raw_tokens(joined, 0, len(joined)):
            for word, leet, squeezed in token_parts(m.group(0)):
                _joined_spans(Token(word, True, s0, e0, leet, squeezed), lexicon, out)
        pos = end
    _plain_spans(clean, index, pos, len(clean), lexicon, out)
    return _join_letter_pairs(out, lexicon)


def canonical_tokens(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Tokens after normalisation, known misspellings and fuzzy correction."""
    return [t.text for t in canonical_spans(text, lexicon)]


def _join_letter_pairs(tokens: list[CanonicalToken], lexicon: Lexicon) -> list[CanonicalToken]:
    """Two spaced letters that spell a deciding term ("n u" → Catalan "nu") become one."""
    n = len(tokens)
    single = [k == 1 for k in map(len, map(itemgetter(0), tokens))]
    if not any(map(and_, single, single[1:])):  # no two one-letter tokens in a row (C loops)
        return tokens
    out: list[CanonicalToken] = []
    i = 0
    while i < n:
        one = len(tokens[i].text) == 1 and i + 1 < n and len(tokens[i + 1].text) == 1
        pair = tokens[i].text + tokens[i + 1].text if one else ""
        if pair and pair.isalpha() and pair in lexicon.skeletons:
            a, b = tokens[i], tokens[i + 1]
            out.append(CanonicalToken(pair, a.start, b.end, a.corrected or b.corrected))
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out
