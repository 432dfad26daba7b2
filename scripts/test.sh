#!/usr/bin/env bash
# Set up and run the whole test suite: unit, real S3 server (SeaweedFS), Airflow DAG runs
# and headless-Chromium UI tests in .venv, then Prefect flow runs in .venv-prefect.
# Extra arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; } || exit 1
fi
.venv/bin/python -m pytest --ignore=tests/prefect "$@"
main=$?
.venv-prefect/bin/python -m pytest tests/prefect "$@"
prefect=$?
echo "test runs: main exit $main, prefect exit $prefect"
[ "$main" = 0 ] && [ "$prefect" = 0 ]
