"""The vocabulary of the flow: frozen dataclasses, no I/O."""

from amparo.domain.items import Context, Item, ItemKind
from amparo.domain.matches import Match
from amparo.domain.signals import Classification, Signal
from amparo.domain.verdicts import Decision, Reason, StageRun, Verdict

__all__ = [
    "Classification",
    "Context",
    "Decision",
    "Item",
    "ItemKind",
    "Match",
    "Reason",
    "Signal",
    "StageRun",
    "Verdict",
]
