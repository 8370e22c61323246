"""The labels of POLICY.md: one vocabulary for the policy, the cases and the reports."""

from __future__ import annotations

# The harms of POLICY.md (what a reviewer can confirm).
HARM_LABELS = (
    "csam_known",
    "csam_suspected",
    "csam_request",
    "ncii_known",
    "nudify_request",
    "sexual_deepfake_request",
    "sexual_deepfake",
    "adult_explicit",
    "ai_generated",
    "minor_present",
)
# Labels the policy may also assign: a match to a platform-defined bank, a failed detector
# (fail-closed), and a sexual request about adults (platform policy).
OPERATIONAL_LABELS = ("hash_match", "detector_failure", "sexual_adult_request")
KNOWN_LABELS = HARM_LABELS + OPERATIONAL_LABELS
