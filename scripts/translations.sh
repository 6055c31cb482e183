#!/usr/bin/env bash
# For developers: extract the strings and merge them into the catalogues (then translate the
# new entries in kiosk/translations/*/LC_MESSAGES/messages.po). `make` compiles the catalogues.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -o kiosk/translations/messages.pot --no-location --sort-output .
.venv/bin/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations --no-fuzzy-matching
