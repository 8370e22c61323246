"""Human review: cases, decisions, appeals, reviewers and their roles."""

from amparo.cases.components import ReviewComponents, ReviewConfig, build_review_components
from amparo.cases.roles import Actor, Role
from amparo.cases.workflow import CaseItemInput, CaseService, DecisionInput

__all__ = [
    "Actor",
    "CaseItemInput",
    "CaseService",
    "DecisionInput",
    "ReviewComponents",
    "ReviewConfig",
    "Role",
    "build_review_components",
]
