#!/usr/bin/env bash
# Build the solution and run the whole test suite.
#
#   scripts/test.sh [extra dotnet test args, e.g. --filter Category=Api]
#
# Azurite is only installed here, not started: the test suite's NUnit setup
# fixture starts and stops its own instance from tools/node_modules/.bin/azurite.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

start=$SECONDS
export ORCHFLOW_REPO_ROOT=$PWD

ensure_azurite

# Warnings are errors (Directory.Build.props), so a passing build is warning-free.
log "Building Orchflow.Functions.sln (Release)"
dotnet build Orchflow.Functions.sln -c Release -nologo

log "Running tests"
status=0
dotnet test Orchflow.Tests/Orchflow.Tests.csproj -c Release --no-build \
    --logger "console;verbosity=normal" "$@" || status=$?

echo "test.sh: finished in $((SECONDS - start)) s (dotnet test exit code $status)"
exit "$status"
