#!/usr/bin/env bash
# Headless Chromium for the reviewer-UI browser tests (tests/review/browser/) and the docs screenshots.
# Playwright's Python package drives the Debian build at /usr/bin/chromium; `playwright install` is never run.
set -euo pipefail
apt-get install -y chromium chromium-driver
