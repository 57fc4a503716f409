#!/usr/bin/env bash
# Generate clients from the OpenAPI document the way a new user would, with each generator's default options:
# Kiota (C#), NSwag (C#) and openapi-typescript. Fails when one crashes, when a model the document types comes out
# untyped, when errors are not one problem-details type, when a request field the document leaves optional comes out
# required, or when a request example of the document does not type-check against the generated TypeScript.
#
#   scripts/generators.sh [OUT_DIR [DOCUMENT]]   (a temporary folder, removed afterwards; the repository's document)
#
# The .NET generators are the tool manifest's (.config/dotnet-tools.json); openapi-typescript and TypeScript come
# from tools/ (npm ci, as scripts/test.sh installs them).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

out=${1:-}
document=$(realpath "${2:-Orchflow.Functions/OpenApi/openapi.json}")
if [[ -z $out ]]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "${out:?}"/kiota "$out"/nswag "$out"/ts

ensure_azurite
dotnet tool restore >/dev/null

failed=0
# run NAME COMMAND…: run a generator, its output in OUT_DIR/NAME.log; a non-zero exit is a crash.
run() {
    local name=$1 status=0
    shift
    "$@" >"$out/$name.log" 2>&1 || status=$?
    if (( status != 0 )); then
        echo "generators.sh: $name crashed (exit code $status); the end of $out/$name.log:" >&2
        tail -n 15 "$out/$name.log" >&2
        failed=1
    fi
}

log "Generating clients from the OpenAPI document (Kiota, NSwag, openapi-typescript)"
# Kiota looks for a newer version of itself online; there is no network here, and nothing to wait for.
KIOTA_OFFLINE_ENABLED=true run kiota dotnet tool run kiota generate --language CSharp --openapi "$document" \
    --output "$out/kiota" --class-name OrchflowKiota --namespace-name Orchflow.Kiota
run nswag dotnet tool run nswag openapi2csclient "/input:$document" "/output:$out/nswag/Client.cs" \
    /namespace:Orchflow.NSwag /className:OrchflowNSwagClient
# From OUT_DIR: in the repository root, openapi-typescript would read redocly.yaml and ask for settings of its own.
(cd "$out" && run ts "$OLDPWD/tools/node_modules/.bin/openapi-typescript" "$document" -o "$out/ts/orchflow.d.ts")

node scripts/generators/check.mjs "$document" "$out" || failed=1

# The document's request examples (the public docs' bodies) against the generated types.
if [[ -f $out/ts/orchflow.d.ts ]]; then
    node scripts/generators/examples.mjs "$document" >"$out/ts/examples.ts"
    if ! tools/node_modules/.bin/tsc --noEmit --strict --target es2022 --moduleResolution bundler --module esnext \
        "$out/ts/examples.ts" >"$out/tsc.log" 2>&1; then
        echo "generators.sh: a request example of the document does not type-check:" >&2
        head -n 20 "$out/tsc.log" >&2
        failed=1
    else
        echo "openapi-typescript: $(grep -c '^export const' "$out/ts/examples.ts") request examples type-check"
    fi
fi

(( failed == 0 )) || die "the generated clients do not hold up (outputs in $out)"
log "Kiota, NSwag and openapi-typescript generate typed clients"
