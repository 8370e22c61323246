"""The victim's self-service page (/protect): people hash their own images in their browser and
submit only the hashes; they get a case number and a secret to see the status and withdraw.

config.py (limits), challenge.py (proof of work), submissions.py (submit, status, withdraw)."""
