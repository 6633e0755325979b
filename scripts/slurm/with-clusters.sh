#!/usr/bin/env bash
# Runs a command with both Slurm clusters up, then always takes them down:
#   bash scripts/slurm/with-clusters.sh node scripts/test.mjs test/slurm
# The command sees clusters.env (SUANWANG_SLURM_<CLUSTER>_URL/_TOKEN/_USER/_CONF, SUANWANG_SLURM_DIR),
# SUANWANG_REQUIRE_SLURM=1, so a Slurm suite fails instead of skipping, and SUANWANG_TEST_CONCURRENCY=1, so
# scripts/test.mjs runs the test files one after the other: they share the clusters, and some stop a
# slurmctld mid-run. Exits with the command's status.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${SUANWANG_SLURM_DIR:-/tmp/suanwang-slurm}
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }

down() { bash "$here/clusters.sh" down || true; }
trap 'down; exit 130' INT
trap 'down; exit 143' TERM

if ! bash "$here/clusters.sh" up; then
  echo "[slurm] the clusters did not come up; taking down what started" >&2
  down
  exit 1
fi

set -a
# shellcheck disable=SC1091
. "$dir/clusters.env"
set +a
export SUANWANG_REQUIRE_SLURM=1
export SUANWANG_TEST_CONCURRENCY=1

"$@"
status=$?
down
exit "$status"
