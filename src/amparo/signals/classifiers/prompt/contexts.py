"""What a text is doing with its cues: excluding them (negation), discussing abuse as a subject,
asking for advice on adults' own sexual health, describing an infant's everyday nudity.
rules.decide asks these before it labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rules import Hit

# How many tokens may lie between a negator and the word it negates ("without any sensitive or
# potentially explicit details"); "no", "not" and "non" reach only the next word.
NEGATION_REACH = 4


def negated(h: Hit, hits: Sequence[Hit], apart: Callable[[Hit, Hit], bool]) -> bool:
    """A word about sexual content that the text excludes ("non-explicit", "without explicit
    language", "avoiding any mention of sexual ...", "no nudity"). Only the words listed as
    `negatable` can be negated; clothing phrases ("without clothes", "no bra") never are."""
    if not any(n.category == "negatable" and n.start == h.start for n in hits):
        return False
    for n in hits:
        reach = NEGATION_REACH if n.category == "negator" else 0 if n.category == "negator_near" else -1
        if not 0 <= h.start - n.end <= reach or apart(n, h):
            continue
        # "without a stitch of clothing, naked": the negator took a garment, or a comma ended it;
        # "not vulgar but erotic": a contrast turns it back
        between = [c for c in hits if n.end <= c.start and c.end <= h.start]
        if not any(c.category in ("clothing", "revealing", "sexual", "body", "contrast") for c in between):
            return True
    return False


# Hits that name someone to whom sexual violence is done.
PERSON_CUES = frozenset(
    {"minor", "minor_weak", "school", "small_body", "adult", "person", "pronoun", "real_person", "image_ref"}
)
# Cues that a text asks for content or acts rather than discussing a subject: a request for an
# image, a story or role-play, a way to find or get something, or an undressing/clothing request.
_NOT_DISCUSSION = frozenset(
    {"seek", "creative", "request", "image_ref", "revealing", "nudify", "remove", "wear", "xray", "nudify_head"}
)


def discussion_of_abuse(hits: Sequence[Hit], sexual_hits: Sequence[Hit]) -> bool:
    """A text *about* sexual abuse, exploitation or sex education ("signs that a child is being
    sexually abused", "laws on child pornography in the UK", "sex education for teenagers"):
    every sexual cue lies inside a subject phrase (`topic`), the text is framed as recognising,
    preventing, reporting, supporting, teaching, law or news (`protective`, `inform`),
    and nothing outside the subject phrases asks for an image, a story, role-play or a way to
    find, get or make something. Such a text names no sexual request; a child named in it makes
    it `minor_nonsexual`, never `csam_request`, and the learned stage may not raise it."""
    topics = [(h.start, h.end) for h in hits if h.category == "topic"]
    if not topics:
        return False

    def inside(h: Hit) -> bool:
        return any(s <= h.start and h.end <= e for s, e in topics)

    protective = any(h.category == "protective" for h in hits)
    return (
        (protective or any(h.category == "inform" for h in hits))
        and all(inside(h) for h in sexual_hits)
        and not any(h.category in _NOT_DISCUSSION and not inside(h) for h in hits)
        # a grooming or secrecy cue that is not the subject itself ("without leaving a trace")
        # is a how-to, unless the text is about recognising or preventing it
        and (protective or not any(h.category == "exploit" and not inside(h) for h in hits))
    )


# Ages an "infant" word may state: "a 1 year old baby naked in the bath".
INFANT_MAX_AGE = 3


def everyday_infant(hits: Sequence[Hit], minor_ages: Sequence[int], minor_hits: Sequence[Hit]) -> bool:
    """A caption of a baby's everyday nudity ("Two naked babies on training toilets", "a baby
    sleeping naked"): every minor cue is an infant word, every sexual cue is a plain nudity word
    ("naked", "nude"), an everyday infant-care setting is named (bath, potty, nappy, beach,
    sleeping), and nothing requests or renders an image ("generate", "photo of", "realistic").
    Anything else (a pose, a body part, revealing clothing, an older child, a request) stays a
    csam_request: the hard line holds for requests."""
    spans = {(h.start, h.end) for h in hits if h.category == "infant"}
    bare = {(h.start, h.end) for h in hits if h.category == "bare"}
    return (
        bool(spans)
        and all(a <= INFANT_MAX_AGE for a in minor_ages)
        and all((h.start, h.end) in spans for h in minor_hits)
        and all((h.start, h.end) in bare for h in hits if h.category == "sexual")
        and any(h.category == "everyday" for h in hits)
        and not any(h.category in ("request", "revealing", "image_ref", "real_person", "body") for h in hits)
    )


# Cues that put a third party, an animal or content in an advice question.
_NOT_ADVICE = _NOT_DISCUSSION | {"real_person", "exploit", "sexual_violence", "animal"}


def adult_advice(hits: Sequence[Hit], minor: bool, named: bool) -> bool:
    """A question about adults' own sexual health, consent or relationships ("How can one explore
    strategies to improve their sexual performance?", "What are some guidelines for engaging in a
    threesome respectfully and consensually?"): it opens as a request for advice (`advice`: how can,
    what are some, tips, guidelines, ways to), names a health, consent or relationship concern
    (`wellbeing`: safely, consent, partner, boundaries, therapist), has no minor cue, names nobody,
    and asks for no image, story, scene or way to find or get something. It names no sexual request:
    `benign`, and the learned stage may not raise it."""
    return (
        not minor
        and not named
        and any(h.category == "advice" for h in hits)
        and any(h.category == "wellbeing" for h in hits)
        and not any(h.category in _NOT_ADVICE for h in hits)
    )
