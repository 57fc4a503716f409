#!/usr/bin/env bash
# Run Orchflow locally in the foreground: Azurite + Orchflow.LocalHost.
#
#   scripts/dev.sh
#
# Environment:
#   ORCHFLOW_PORT      HTTP port of the host on 127.0.0.1 (default 7071)
#   ORCHFLOW_DATA_DIR  local state, incl. Azurite data (default .orchflow)
#
# Ctrl-C stops the host and Azurite.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$PWD
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PORT=${ORCHFLOW_PORT:-7071}
DATA_DIR=${ORCHFLOW_DATA_DIR:-.orchflow}
HOST_DIR="$REPO_ROOT/Orchflow.LocalHost/bin/Release/net10.0"
HEALTH_URL="http://127.0.0.1:$PORT/api/v1/health"

[[ $PORT =~ ^[0-9]+$ ]] || die "ORCHFLOW_PORT must be a port number, got '$PORT'"

# Check the port before spending time on the build.
if port_in_use "$PORT"; then
    die "port $PORT is already in use on 127.0.0.1; stop whatever is listening there or set ORCHFLOW_PORT"
fi

ensure_azurite
log "Building Orchflow.LocalHost (Release)"
dotnet build Orchflow.LocalHost/Orchflow.LocalHost.csproj -c Release -nologo -v q

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd) # absolute, so nothing depends on a process's cwd

HOST_PID=
AZURITE_PID=
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    trap - EXIT INT TERM
    # Host first, so it does not log storage errors while Azurite goes away.
    stop_pid "$HOST_PID"
    stop_pid "$AZURITE_PID"
}
trap cleanup EXIT
# Turn signals into a normal exit; the EXIT trap then does the cleanup once.
trap 'exit 130' INT
trap 'exit 143' TERM

start_azurite "$DATA_DIR/azurite"

log "Starting Orchflow.LocalHost on port $PORT"
# --contentRoot: ASP.NET Core defaults the content root to the working
# directory (here the repo root), which would miss the appsettings*.json files
# copied next to the dll.
Orchflow__Storage__ConnectionString="$AZURITE_CONNECTION_STRING" \
DOTNET_ENVIRONMENT=Development \
ASPNETCORE_ENVIRONMENT=Development \
    dotnet "$HOST_DIR/Orchflow.LocalHost.dll" \
        --urls "http://127.0.0.1:$PORT" \
        --contentRoot "$HOST_DIR" &
HOST_PID=$!

# Bounded wait (~60 s) for the health endpoint.
deadline=$((SECONDS + 60))
until curl -fsS -o /dev/null --max-time 2 "$HEALTH_URL" 2>/dev/null; do
    if ! kill -0 "$HOST_PID" 2>/dev/null; then
        status=0
        wait "$HOST_PID" || status=$?
        HOST_PID=
        die "Orchflow.LocalHost exited during startup (exit code $status); see its output above"
    fi
    if ((SECONDS >= deadline)); then
        # One last try with errors shown, to say why.
        curl -fsS -o /dev/null --max-time 2 "$HEALTH_URL" || true
        die "Orchflow.LocalHost did not answer $HEALTH_URL within 60 s"
    fi
    sleep 0.5
done

echo "Orchflow is running at http://127.0.0.1:$PORT/api/v1  (Ctrl-C to stop)"

# Stay in the foreground until the host exits; a signal interrupts the wait
# and runs the traps above.
status=0
wait "$HOST_PID" || status=$?
HOST_PID=
exit "$status"
