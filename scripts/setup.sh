#!/usr/bin/env bash
# Create .venv with every extra the tests and examples need (idempotent, seconds with uv).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv
fi
if [ ! -x .venv/bin/python ]; then
  uv venv --quiet --python 3.11 .venv
fi
uv pip install --quiet --python .venv/bin/python -e '.[dev,airflow,prefect,ui]'
