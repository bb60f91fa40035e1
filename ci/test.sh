#!/usr/bin/env bash
# The README's test command: set-up (idempotent), then the whole mocha suite (unit, integration, privileged).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
exec npx --no-install mocha "$@"
