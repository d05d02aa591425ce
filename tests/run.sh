#!/usr/bin/env bash
# Runs every test of the solution. Installs redis-server (the clustering tests start a real one)
# when it is missing. Extra arguments go to `dotnet test`, e.g. --filter Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is missing; installing it with apt-get"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# Built once, then one test assembly at a time (-m:1): several of them start clusters, silo processes and
# timed loads, and on a 2-core machine running them side by side makes their latency bounds a coin toss.
{ dotnet build Cluster.sln -c Release && dotnet test Cluster.sln -c Release --no-build -m:1 "$@"; } 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over the test assemblies.
awk '/(Passed|Failed)! +- +Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
