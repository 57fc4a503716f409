#!/usr/bin/env bash
# Build the solution and run the whole test suite.
#
#   scripts/test.sh [extra dotnet test args, e.g. --filter Category=Api]
#
# Azurite, Redocly CLI, openapi-typescript, the Standard Webhooks verifier, the MCP reference server, the MCP Inspector
# and the MCP conformance suite (with the Node 22 it needs) are installed here
# (npm ci in tools/); none is started here: the tests start and stop their own
# Azurite and MCP servers from tools/node_modules.
# Debian's chromium is installed where it is missing, for the console's browser
# tests (screenshots land in TestResults/console), and the PowerShell dotnet tool
# (tools/pwsh) for the tests of the Windows post-provision hook.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# report_not_run TRX: each test that did not run to a verdict (ignored, skipped by an assumption, inconclusive).
report_not_run() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for result in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if result.get("outcome") in ("Passed", "Failed"):
        continue
    message = result.findtext("t:Output/t:ErrorInfo/t:Message", "", ns).strip().splitlines()
    print(f"test.sh: NOT RUN ({result.get('outcome')}) {result.get('testName')}: {message[0] if message else ''}")
PY
    else
        grep -o '<UnitTestResult [^>]*outcome="[^"]*"' "$1" | grep -v 'outcome="\(Passed\|Failed\)"' \
            | sed 's/.*testName="\([^"]*\)".*outcome="\([^"]*\)".*/test.sh: NOT RUN (\2) \1/'
    fi
}

# report_failures TRX: each failed test's name and the first lines of its message.
report_failures() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for result in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if result.get("outcome") != "Failed":
        continue
    message = result.findtext("t:Output/t:ErrorInfo/t:Message", "", ns).strip().splitlines()
    print(f"test.sh: FAILED {result.get('testName')}")
    for line in message[:12]:
        print(f"    {line}")
PY
    else
        grep -o '<UnitTestResult [^>]*outcome="Failed"' "$1" | sed 's/.*testName="\([^"]*\)".*/test.sh: FAILED \1/'
    fi
}

start=$SECONDS
export ORCHFLOW_REPO_ROOT=$PWD

ensure_azurite
ensure_chromium
ensure_pwsh

# The steps below need nothing of the .NET build, so they run beside it, each with its output in a log of its own,
# printed once the build is done; any that failed stops the script there, as it would have on its own.
side_logs=$(mktemp -d)
trap 'rm -rf "$side_logs"' EXIT
side_names=()
side_pids=()
# beside_build NAME COMMAND...: start COMMAND in the background, its output in $side_logs/NAME.log.
beside_build() {
    local name=$1
    shift
    ("$@") >"$side_logs/$name.log" 2>&1 &
    side_names+=("$name")
    side_pids+=("$!")
}

# The TypeScript client: types generated from the document, compiled with tsc; TypeScriptClientTests runs its tests
# (node's test runner) against the standalone host.
build_typescript_client() {
    log "Building the TypeScript client (clients/typescript)"
    npm ci --no-audit --no-fund --loglevel=error --prefix clients/typescript >/dev/null
    npm run --silent --prefix clients/typescript build >/dev/null
}

# The Azure templates: compiled and linted, failing on any error or warning.
beside_build bicep scripts/bicep.sh
# The OpenAPI document: linted, failing on any finding (tests check it against real responses).
beside_build openapi-lint lint_openapi
# The document as client generators read it: Kiota, NSwag and openapi-typescript, each with its default options.
beside_build generators scripts/generators.sh
beside_build typescript-client build_typescript_client

# Warnings are errors (Directory.Build.props), so a passing build is warning-free.
log "Building Orchflow.Functions.sln (Release), with the templates, the document and the TypeScript client checked beside it"
step=$SECONDS
build=0
dotnet build Orchflow.Functions.sln -c Release -nologo || build=$?
log "Build done in $((SECONDS - step)) s"
side_failed=()
for i in "${!side_pids[@]}"; do
    side=0
    wait "${side_pids[$i]}" || side=$?
    cat "$side_logs/${side_names[$i]}.log" >&2
    (( side == 0 )) || side_failed+=("${side_names[$i]} (exit code $side)")
done
(( build == 0 )) || die "the build failed (exit code $build)"
(( ${#side_failed[@]} == 0 )) || die "failed beside the build: ${side_failed[*]}"

log "Running tests"
step=$SECONDS
results=$PWD/TestResults
rm -f "$results/orchflow.trx"
status=0
dotnet test Orchflow.Tests/Orchflow.Tests.csproj -c Release --no-build \
    --logger "console;verbosity=normal" \
    --logger "trx;LogFileName=orchflow.trx" --results-directory "$results" "$@" || status=$?
log "Tests done in $((SECONDS - step)) s"

# The bench with tiny counts, every phase once, so it never rots (the full run is scripts/bench.sh).
bench=0
if [[ $# -eq 0 ]]; then
    log "Bench smoke run"
    step=$SECONDS
    dotnet bench/Orchflow.Bench/bin/Release/net10.0/Orchflow.Bench.dll --smoke >/dev/null || bench=$?
    log "Bench smoke run done in $((SECONDS - step)) s"
fi

# One plain closing line with the counts, read from the TRX report.
if [[ -f $results/orchflow.trx ]]; then
    counters=$(grep -o '<Counters [^>]*>' "$results/orchflow.trx" | head -n 1)
    count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
    # Not run: ignored or skipped (never executed) and inconclusive (an assumption that did not hold).
    not_run=$(( $(count total) - $(count executed) + $(count inconclusive) ))
    echo "test.sh: $(count passed) passed, $(count failed) failed, $not_run skipped or not run"
    # The failures again, named, last: a long log is often read from its end.
    if [[ $(count failed) != 0 ]]; then
        report_failures "$results/orchflow.trx"
    fi
    # A skipped test is a check that did not happen: the run fails, naming each one.
    if (( not_run != 0 )); then
        report_not_run "$results/orchflow.trx"
        echo "test.sh: FAILED because $not_run tests were skipped or not run; every test must pass or fail"
        (( status != 0 )) || status=1
    fi
else
    echo "test.sh: FAILED: no test report at $results/orchflow.trx"
    (( status != 0 )) || status=1
fi
if (( bench != 0 )); then
    echo "test.sh: the bench smoke run failed (exit code $bench)"
    (( status != 0 )) || status=$bench
fi
echo "test.sh: finished in $((SECONDS - start)) s (dotnet test exit code $status)"
exit "$status"
