#!/usr/bin/env bash
# Compile and lint every Bicep file under infra/ with the pinned Bicep CLI. Any error or warning
# fails (infra/bicepconfig.json raises the security rules to errors).
#
#   scripts/bicep.sh
#
# The CLI is the NuGet package Azure.Bicep.CommandLine.linux-x64, restored by infra/tools/bicep.csproj.
# Elsewhere than on Linux x64, set ORCHFLOW_BICEP to a Bicep CLI of the same version.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# bicep_cli: restore the pinned CLI if needed and print its path.
bicep_cli() {
    if [[ -n ${ORCHFLOW_BICEP:-} ]]; then
        echo "$ORCHFLOW_BICEP"
        return 0
    fi
    local project=infra/tools/bicep.csproj version packages
    version=$(sed -n 's/.*PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="\[\([^]]*\)\]".*/\1/p' "$project")
    [[ -n $version ]] || die "no Bicep CLI version in $project"
    dotnet restore "$project" -nologo -verbosity:quiet >&2
    packages=$(sed -n '/"packageFolders"/{n;s/^ *"\([^"]*\)".*/\1/p;}' infra/tools/obj/project.assets.json)
    echo "${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
}

bicep=$(bicep_cli)
[[ -x $bicep ]] || die "the Bicep CLI is missing at $bicep"

start=$SECONDS
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

log "Bicep: building and linting infra/ with $("$bicep" --version)"
mkdir "$out/json"
# Build and lint run side by side; each takes a few seconds, mostly start-up.
"$bicep" lint --pattern 'infra/**/*.bicep' >"$out/lint.log" 2>&1 &
lint_pid=$!
status=0
"$bicep" build --pattern 'infra/**/*.bicep' --outdir "$out/json" >"$out/build.log" 2>&1 || status=$?
wait "$lint_pid" || status=$?
# Each diagnostic appears in both outputs: print each once.
findings=$(cat "$out/build.log" "$out/lint.log" | grep -E ' : (Error|Warning) ' | sort -u || true)
if [[ -n $findings ]]; then
    echo "$findings" >&2
fi
if (( status != 0 )) || [[ -n $findings ]]; then
    die "Bicep build or lint reported problems (exit code $status)"
fi
log "Bicep: $(find "$out/json" -name '*.json' | wc -l) files built, no errors or warnings ($((SECONDS - start)) s)"
