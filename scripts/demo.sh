#!/usr/bin/env bash
# Set up and run the main job end to end on the embedded local store: the example
# Airflow pipeline (daily ingestion twice, then the training DAG triggered by the
# dataset's Asset event), run in a temporary Airflow home with dag.test().
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --airflow-only
exec .venv/bin/python example_dags/run_pipeline.py "$@"
