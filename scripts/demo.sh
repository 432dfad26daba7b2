#!/usr/bin/env bash
# Set up and run the main job end to end on the embedded local store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python example_dags/sdk_demo.py "$@"
