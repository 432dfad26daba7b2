#!/usr/bin/env bash
# Set up and run the whole test suite: strict type checks, then unit, real S3 server
# (SeaweedFS), Airflow DAG runs, Airflow on Celery (PostgreSQL, Redis, two workers) and
# headless-Chromium UI tests in .venv, then Prefect flow
# runs in .venv-prefect.
# Extra arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Debian packages: Chromium (UI tests), PostgreSQL and Redis (tests/distributed: Airflow on
# Celery; its fixture also installs them when run on its own).
apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || apt_packages+=(postgresql)
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
if [ "${#apt_packages[@]}" != 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_packages[@]}" >/dev/null; } || exit 1
fi
# Types, strict (pyproject), each package in the environment that has its orchestrator.
.venv/bin/mypy dsops airflow_provider
types=$?
.venv-prefect/bin/mypy prefect_tasks
types_prefect=$?
.venv/bin/python -m pytest --ignore=tests/prefect "$@"
main=$?
.venv-prefect/bin/python -m pytest tests/prefect "$@"
prefect=$?
echo "type checks: exit $types, prefect exit $types_prefect"
echo "test runs: main exit $main, prefect exit $prefect"
[ "$types" = 0 ] && [ "$types_prefect" = 0 ] && [ "$main" = 0 ] && [ "$prefect" = 0 ]
