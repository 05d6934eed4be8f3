# Sourced by .ci/run: throwaway PostgreSQL and Redis servers on loopback for one test run.
# Installs the Debian packages when missing; any failure stops the run loudly (set -e).

SERVICES_DIR=""
PG_BIN=""

_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_install_missing() {
    local missing=()
    ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    if ((${#missing[@]})); then
        echo "ci: installing ${missing[*]} (Debian packages)"
        [[ $(id -u) == 0 ]] || { echo "ci: need root to install ${missing[*]}" >&2; return 1; }
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
        apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
    PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/postgres | sort -V | tail -1)")
}

# Runs a command as the unprivileged owner of the data directory (PostgreSQL refuses root).
_as_owner() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_services() {
    _install_missing
    SERVICES_DIR=$(mktemp -d /tmp/unionvoice-ci.XXXXXX)
    chmod 755 "$SERVICES_DIR"
    local pg_port redis_port
    pg_port=$(_free_port)
    redis_port=$(_free_port)

    mkdir "$SERVICES_DIR/pg"
    [[ $(id -u) == 0 ]] && chown postgres "$SERVICES_DIR/pg"
    _as_owner "$PG_BIN/initdb" -D "$SERVICES_DIR/pg/data" -U unionvoice --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$SERVICES_DIR/pg/initdb.log"
    # Durability is pointless for a throwaway test server: skip the fsyncs.
    _as_owner "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/server.log" -w \
        -o "-h 127.0.0.1 -p $pg_port -k $SERVICES_DIR/pg -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=200" start >/dev/null \
        || { cat "$SERVICES_DIR/pg/server.log" >&2; return 1; }

    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
        --daemonize yes --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" \
        --logfile "$SERVICES_DIR/redis.log"
    for _ in $(seq 50); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -p "$redis_port" ping >/dev/null || { cat "$SERVICES_DIR/redis.log" >&2; return 1; }

    export TEST_DATABASE_URL="postgresql+asyncpg://unionvoice@127.0.0.1:$pg_port/postgres"
    export TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
    echo "ci: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
}

stop_services() {
    [[ -n $SERVICES_DIR ]] || return 0
    if [[ -f $SERVICES_DIR/redis.pid ]]; then
        kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
    fi
    if [[ -d $SERVICES_DIR/pg/data ]]; then
        _as_owner "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$SERVICES_DIR"
}
