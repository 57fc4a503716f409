#!/usr/bin/env bash
# Measure Orchflow against the bare Durable Task engine on the same backend, and
# against Durable Functions' published figures.
#
#   scripts/bench.sh            # the full run (under 10 minutes on 2 cores): prints the
#                               # table and rewrites the generated section of BENCHMARKS.md
#   scripts/bench.sh --smoke    # tiny counts, every phase once: a check that the bench works
#   scripts/bench.sh --only resume,reads --set Orchflow__Durable__MaxQueuePollingIntervalMs=100
#                               # some phases, with extra host settings; prints only
#
# The bench starts and stops its own Azurite and standalone host (Release build);
# Ctrl-C stops both. See bench/Orchflow.Bench for what each figure measures.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export ORCHFLOW_REPO_ROOT=$PWD
ensure_azurite

log "Building the bench and Orchflow.LocalHost (Release)"
dotnet build bench/Orchflow.Bench/Orchflow.Bench.csproj -c Release -nologo -v q

# exec: signals reach the bench itself, which stops what it started.
exec dotnet bench/Orchflow.Bench/bin/Release/net10.0/Orchflow.Bench.dll "$@"
