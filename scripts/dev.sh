#!/usr/bin/env bash
# Run Orchflow locally in the foreground: Azurite + Orchflow.LocalHost.
#
#   scripts/dev.sh
#   ORCHFLOW_PORT=7072 scripts/dev.sh   # in another terminal: a second worker
#
# Environment:
#   ORCHFLOW_PORT      HTTP port of the host on 127.0.0.1 (default 7071)
#   ORCHFLOW_DATA_DIR  local state, incl. Azurite data (default .orchflow)
#   ORCHFLOW_TRIAL_RUNS  managed trial runs per account registered here (default
#                      100000: the simulated model costs nothing, so an evaluation
#                      never runs out; set 5 to meet the production 402)
#   ORCHFLOW_API_STORAGE  shared (default): the API's tables on the task hub's
#                      Azurite; separate: on an Azurite of their own, as
#                      infra/main.bicep's apiStorage=separate deploys them (here
#                      the webhook queue moves with them; in Azure it stays on the
#                      main account, where its queue trigger reads it). A data
#                      folder keeps what it was first run with.
#
# Providers, tool servers and webhooks on this machine (loopback) are allowed;
# for a model server elsewhere on your network, add its range, e.g.
#   Orchflow__Network__AllowedPrivateRanges__2=192.168.1.0/24 scripts/dev.sh
#
# A dev.sh started while another runs on the same data folder joins it: its
# host is another worker on the same Azurite, task hub and tables, and it
# starts no Azurite (nor a build) of its own. Each host's PID is in
# <data dir>/hosts/<port>.pid. Ctrl-C stops this script's host; the last host
# to stop also stops Azurite.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$PWD
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PORT=${ORCHFLOW_PORT:-7071}
DATA_DIR=${ORCHFLOW_DATA_DIR:-.orchflow}
TRIAL_RUNS=${ORCHFLOW_TRIAL_RUNS:-100000}
API_STORAGE=${ORCHFLOW_API_STORAGE:-}
HOST_DIR="$REPO_ROOT/Orchflow.LocalHost/bin/Release/net10.0"
HEALTH_URL="http://127.0.0.1:$PORT/api/v1/health"

[[ $PORT =~ ^[0-9]+$ ]] || die "ORCHFLOW_PORT must be a port number, got '$PORT'"
[[ $TRIAL_RUNS =~ ^[0-9]+$ ]] || die "ORCHFLOW_TRIAL_RUNS must be a whole number, got '$TRIAL_RUNS'"
[[ -z $API_STORAGE || $API_STORAGE == shared || $API_STORAGE == separate ]] ||
    die "ORCHFLOW_API_STORAGE must be shared or separate, got '$API_STORAGE'"

# Check the port before spending time on the build.
if port_in_use "$PORT"; then
    die "port $PORT is already in use on 127.0.0.1; stop whatever is listening there or set ORCHFLOW_PORT"
fi

mkdir -p "$DATA_DIR/hosts"
DATA_DIR=$(cd "$DATA_DIR" && pwd) # absolute, so nothing depends on a process's cwd
PID_FILE="$DATA_DIR/hosts/$PORT.pid"

HOST_PID=    # cleared once the host is reaped, so its PID is never signalled after reuse
OWN_PID=     # the PID this script wrote to $PID_FILE
SHARING=     # set once this script takes part in the data folder's deployment
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    trap - EXIT
    trap '' INT TERM # finish stopping what is ours, even on a second Ctrl-C
    # Host first, so it does not log storage errors while Azurite goes away.
    stop_pid "$HOST_PID"
    [[ -n $SHARING ]] || return 0
    if ! lock_data_dir "$DATA_DIR"; then
        printf 'warning: could not take %s/dev.lock; Azurite is left running\n' "$DATA_DIR" >&2
        return 0
    fi
    if [[ -n $OWN_PID && $(cat "$PID_FILE" 2>/dev/null) == "$OWN_PID" ]]; then
        rm -f "$PID_FILE"
    fi
    stop_azurite_if_unused "$DATA_DIR"
    stop_azurite_if_unused "$DATA_DIR" azurite-api
    unlock_data_dir
}
trap cleanup EXIT
# Turn signals into a normal exit; the EXIT trap then does the cleanup once.
trap 'exit 130' INT
trap 'exit 143' TERM

# Start or join, decided under the lock: of two dev.sh started together, one
# starts Azurite and the other joins it.
lock_data_dir "$DATA_DIR" || die "timed out waiting for $DATA_DIR/dev.lock"
SHARING=1
# Where the API's tables live is the data folder's: a folder run before this choice existed has them beside the
# task hub, and switching would leave its accounts and runs behind in the other Azurite.
if [[ -f $DATA_DIR/api-storage ]]; then
    kept=$(<"$DATA_DIR/api-storage")
    [[ $kept == shared || $kept == separate ]] ||
        die "$DATA_DIR/api-storage says '$kept', not shared or separate; write the one this folder was run with"
elif [[ -d $DATA_DIR/azurite ]]; then
    kept=shared
else
    kept=${API_STORAGE:-shared}
fi
[[ -z $API_STORAGE || $API_STORAGE == "$kept" ]] ||
    die "$DATA_DIR keeps the API's tables $kept (ORCHFLOW_API_STORAGE=$kept); for $API_STORAGE, set ORCHFLOW_DATA_DIR to another folder"
API_STORAGE=$kept
running=$(live_hosts "$DATA_DIR")
if [[ -n $running ]]; then
    # Rebuilding would overwrite the assemblies the running hosts have loaded.
    log "Joining the host(s) on port ${running//$'\n'/, } as another worker; using their build"
    [[ -f $HOST_DIR/Orchflow.LocalHost.dll ]] || die "no build at $HOST_DIR"
else
    log "Building Orchflow.LocalHost (Release)"
    dotnet build Orchflow.LocalHost/Orchflow.LocalHost.csproj -c Release -nologo -v q 9>&-
fi
join_or_start_azurite "$DATA_DIR"
ENGINE_STORAGE=$AZURITE_CONNECTION_STRING
TABLES_STORAGE=$AZURITE_CONNECTION_STRING
if [[ $API_STORAGE == separate ]]; then
    join_or_start_azurite "$DATA_DIR" azurite-api
    TABLES_STORAGE=$AZURITE_CONNECTION_STRING
    log "The API's tables are on an Azurite of their own (ORCHFLOW_API_STORAGE=separate)"
fi
# Kept once its Azurites run, so a first start that failed decides nothing.
echo "$API_STORAGE" >"$DATA_DIR/api-storage"

log "Starting Orchflow.LocalHost on port $PORT"
# --contentRoot: ASP.NET Core defaults the content root to the working
# directory (here the repo root), which would miss the appsettings*.json files
# copied next to the dll.
Orchflow__Storage__ConnectionString="$TABLES_STORAGE" \
Orchflow__Durable__ConnectionString="$ENGINE_STORAGE" \
Orchflow__TrialRuns="$TRIAL_RUNS" \
Orchflow__Network__AllowedPrivateRanges__0=127.0.0.0/8 \
Orchflow__Network__AllowedPrivateRanges__1=::1/128 \
DOTNET_ENVIRONMENT=Development \
ASPNETCORE_ENVIRONMENT=Development \
    dotnet "$HOST_DIR/Orchflow.LocalHost.dll" \
        --urls "http://127.0.0.1:$PORT" \
        --contentRoot "$HOST_DIR" 9>&- &
HOST_PID=$!
OWN_PID=$HOST_PID
echo "$OWN_PID" >"$PID_FILE"

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
unlock_data_dir

echo "Orchflow is running at http://127.0.0.1:$PORT/api/v1  (Ctrl-C to stop)"
echo "The console is at http://127.0.0.1:$PORT/console"

# Stay in the foreground until the host exits; a signal interrupts the wait
# and runs the traps above.
status=0
wait "$HOST_PID" || status=$?
HOST_PID=
exit "$status"
