#!/usr/bin/env bash
# shellcheck shell=bash
# Helpers shared by scripts/dev.sh and scripts/test.sh. Source it, don't run it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# All paths are relative to the repository root; callers cd there first.

ORCHFLOW_AZURITE_BIN="tools/node_modules/.bin/azurite"
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

# ensure_azurite: install the pinned Azurite from tools/package-lock.json when
# it is missing or the lock file changed since the last install.
ensure_azurite() {
    if [[ -x $ORCHFLOW_AZURITE_BIN && -f $ORCHFLOW_AZURITE_STAMP \
          && ! $ORCHFLOW_AZURITE_STAMP -ot tools/package-lock.json ]]; then
        return 0
    fi
    command -v npm >/dev/null || die "npm not found; install Node.js 20"
    log "Installing Azurite (npm ci in tools/)"
    npm ci --no-audit --no-fund --loglevel=error --prefix tools >/dev/null
    [[ -x $ORCHFLOW_AZURITE_BIN ]] || die "npm ci finished but $ORCHFLOW_AZURITE_BIN is missing"
    touch "$ORCHFLOW_AZURITE_STAMP"
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
# Sets AZURITE_PID and exports AZURITE_CONNECTION_STRING. Must be called in
# the current shell (not inside $(...)) or those variables are lost.
start_azurite() {
    local data_dir=$1 blob_port queue_port table_port port i
    mkdir -p "$data_dir"
    local log_file="$data_dir/azurite.log"

    # Pick three distinct ports (free_port could hand out the same one twice).
    blob_port=$(free_port)
    queue_port=$(free_port)
    while [[ $queue_port == "$blob_port" ]]; do queue_port=$(free_port); done
    table_port=$(free_port)
    while [[ $table_port == "$blob_port" || $table_port == "$queue_port" ]]; do table_port=$(free_port); done

    "$ORCHFLOW_AZURITE_BIN" \
        --location "$data_dir" \
        --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
        --blobPort "$blob_port" --queuePort "$queue_port" --tablePort "$table_port" \
        --skipApiVersionCheck --disableTelemetry --loose --silent \
        >"$log_file" 2>&1 &
    AZURITE_PID=$!

    # Bounded wait (~20 s) for all three services to listen; the table service
    # is the one the orchestration storage needs most.
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$AZURITE_PID" 2>/dev/null; then
            break # died during startup
        fi
        if port_in_use "$table_port" && port_in_use "$blob_port" && port_in_use "$queue_port"; then
            local base="http://127.0.0.1"
            export AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$ORCHFLOW_DEVSTORE_ACCOUNT;AccountKey=$ORCHFLOW_DEVSTORE_KEY;BlobEndpoint=$base:$blob_port/$ORCHFLOW_DEVSTORE_ACCOUNT;QueueEndpoint=$base:$queue_port/$ORCHFLOW_DEVSTORE_ACCOUNT;TableEndpoint=$base:$table_port/$ORCHFLOW_DEVSTORE_ACCOUNT;"
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
