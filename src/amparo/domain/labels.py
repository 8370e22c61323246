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
# (fail-closed), a sexual request about adults (platform policy), and nudity whose ages could
# not be decided, held for a person and never reported on their own: `age_unsure` (a face that
# may be a minor, or too small/blurred/turned to judge) and `age_unverified` (no face at all).
OPERATIONAL_LABELS = ("hash_match", "detector_failure", "sexual_adult_request", "age_unsure", "age_unverified")
KNOWN_LABELS = HARM_LABELS + OPERATIONAL_LABELS
