# shellcheck shell=bash
# Sourced by scripts/test-audit.sh and bench/audit-scale.sh: moto's server (the AWS
# emulator) from a virtual environment, on a free loopback port, and an environment in
# which the AWS SDK reads nothing of the machine's (no profile, config file or instance
# metadata).
#   emulator_start VENV DIR  start it (its log in DIR/moto.log) and wait until it answers;
#                            sets `server` (its pid) and `url`; returns 1 if it exits or
#                            does not answer within 20 s
#   emulator_stop            stop it, if started (for the caller's EXIT trap)
#   emulator_env DIR         credentials for the emulator only (DIR holds no config files)

server="" url=""

emulator_stop() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=""
    fi
}

emulator_start() {
    local venv=$1 dir=$2 port
    port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    url="http://127.0.0.1:$port"
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('$url/moto-api/')" 2>/dev/null; then
            return 0
        fi
        kill -0 "$server" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

emulator_env() {
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
    export AWS_CONFIG_FILE="$1/no-config" AWS_SHARED_CREDENTIALS_FILE="$1/no-credentials"
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
}
