#!/usr/bin/env bash
# Create the development environments with uv (idempotent; seconds with a warm cache).
#   .venv          dsops + Airflow (+ Celery executor) + web UI + GCS/Azure backends + dev tools
#   .venv-prefect  dsops + Prefect (+ prefect-aws, prefect-dask) + dev tools
# Airflow 3.3 and Prefect 3.9 pin incompatible FastAPI versions, so each orchestrator
# gets its own environment, as users install one extra or the other.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv
fi
make_env() {
  local dir=$1 extras=$2
  if [ ! -x "$dir/bin/python" ]; then
    uv venv --quiet --python 3.11 "$dir"
  fi
  # Bytecode is compiled at install: imports stay fast where PYTHONDONTWRITEBYTECODE is set.
  uv pip install --quiet --compile-bytecode --python "$dir/bin/python" -e ".[$extras]"
}
make_env .venv "dev,airflow,celery,ui,gcs,azure"
if [ "${1:-}" != "--airflow-only" ]; then
  make_env .venv-prefect "dev,prefect,prefect-aws,prefect-dask"
  # Azure's emulator for the fsspec backend's tests (skipped when npm is missing).
  if command -v npm >/dev/null 2>&1 && [ ! -x node_modules/.bin/azurite-blob ]; then
    npm install --silent --no-save --no-audit --no-fund azurite@3 >/dev/null 2>&1 \
      || echo "note: could not install azurite; the Azure emulator tests will be skipped"
  fi
fi
