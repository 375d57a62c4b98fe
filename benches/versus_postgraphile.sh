#!/usr/bin/env bash
# Kith against PostGraphile on the same PostgreSQL and the same data (issue 15's proof).
#
#   benches/versus_postgraphile.sh            # reuses the database kith_versus when it is seeded
#   benches/versus_postgraphile.sh --reseed   # drops kith_versus and seeds it again
#   KITH_BIN=path/to/kith benches/versus_postgraphile.sh   # a binary built elsewhere
#
# What it does, in order:
#  1. installs wrk (apt) if missing, and PostGraphile 4.14.1 with graphql 15 from npm in a folder
#     of its own, target/versus/postgraphile (PostGraphile 4 with a graphql 16 beside it answers
#     every field with null);
#  2. makes the database kith_versus (only that one is ever dropped), seeds it with
#     `kith seed --synthetic --groups 10000 --users 1000 --events 100000 --seed 1` and runs
#     VACUUM ANALYZE (without statistics PostGraphile's home screen runs at a sixth of its speed);
#     a comment on the database marks it seeded, so the next run reuses it;
#  3. adds PostGIS (installing postgresql-<major>-postgis-3 with apt when the server lacks it) and
#     what a PostGraphile team would write: benches/versus/postgraphile.sql;
#  4. starts the release `kith` (production mode) and PostGraphile (NODE_ENV=production, no
#     GraphiQL, no query log, no watch, a pool of 16 like Kith's) on free ports;
#  5. checks that both answer the same events in the same order for the point read, the group
#     page and the home screen, and stops with a diff when they do not;
#  6. runs each query with wrk (32 connections, 2 threads, a warm-up, then VERSUS_SECONDS),
#     alternating Kith and PostGraphile, VERSUS_ROUNDS rounds (A B A B), and prints per query:
#     requests/s, the ratio, server CPU and PostgreSQL CPU per request (from /proc), and SQL
#     statements per request (Kith's kith_sql_statements_total; for PostGraphile, a count kept by
#     benches/versus/count_queries.js, preloaded into it).
#
# Settings (environment): KITH_BIN; VERSUS_PG (default postgres://postgres@127.0.0.1:5432, a
# superuser: it creates the database and the extension); VERSUS_SECONDS (10), VERSUS_WARMUP (2),
# VERSUS_ROUNDS (2), VERSUS_CONNECTIONS (32), VERSUS_THREADS (2).
#
# Needs: node and npm, psql, python3, curl, and apt-get (as root) for what is missing. The shared
# PostgreSQL server is never restarted or reconfigured (so no pg_stat_statements, which needs
# shared_preload_libraries). Servers are stopped on exit; the database stays for the next run.
# The CPU figures count every postgres process connected to kith_versus, so keep other work off
# that database while it runs; on a shared machine the req/s figures are checks, not results.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive # apt, when something is missing
cd "$(dirname "$0")/.."
ROOT=$PWD

RESEED=0
for arg in "$@"; do
  case "$arg" in
    --reseed) RESEED=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

PG_BASE=${VERSUS_PG:-postgres://postgres@127.0.0.1:5432}
DB_NAME=kith_versus
DB_URL="$PG_BASE/$DB_NAME"
ADMIN_URL="$PG_BASE/postgres"
SECONDS_PER_RUN=${VERSUS_SECONDS:-10}
WARMUP=${VERSUS_WARMUP:-2}
ROUNDS=${VERSUS_ROUNDS:-2}
CONNECTIONS=${VERSUS_CONNECTIONS:-32}
THREADS=${VERSUS_THREADS:-2}
POOL_SIZE=16 # Kith's PostgreSQL pool (src/db.rs); PostGraphile gets the same
SEED_ARGS=(--synthetic --groups 10000 --users 1000 --events 100000 --seed 1)
MARKER="kith-versus: seed ${SEED_ARGS[*]}"
PGL_VERSION=4.14.1
GRAPHQL_VERSION=15.8.0
WORK=$ROOT/target/versus
PGL_DIR=$WORK/postgraphile
BODIES=$WORK/bodies
Q=$ROOT/benches/versus
TICKS=$(getconf CLK_TCK)
mkdir -p "$WORK" "$BODIES"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# Warnings and errors only: "extension postgis already exists" is no news on a second run.
psql_db() { PGOPTIONS="-c client_min_messages=warning" psql "$DB_URL" -X -v ON_ERROR_STOP=1 -Atq "$@"; }
psql_admin() { psql "$ADMIN_URL" -X -v ON_ERROR_STOP=1 -Atq "$@"; }

# ---------------------------------------------------------------- servers, stopped on exit
KITH_PID=""
PGL_PID=""
cleanup() {
  local pid
  for pid in $KITH_PID $PGL_PID; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $KITH_PID $PGL_PID; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
ensure_tools() {
  local tool
  for tool in node npm psql python3 curl; do
    command -v "$tool" >/dev/null || die "$tool is needed"
  done
  if ! command -v wrk >/dev/null; then
    log "installing wrk (apt)"
    apt-get install -y -q wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  fi
}

# PostGraphile in a folder of its own with graphql pinned to 15: one hoisted graphql 16 (from
# another package in the same node_modules) and PostGraphile 4 answers every field with null.
ensure_postgraphile() {
  local installed
  installed=$(cd "$PGL_DIR" 2>/dev/null &&
    node -p "require('postgraphile/package.json').version + ' ' + require('graphql/package.json').version" 2>/dev/null) || true
  if [ "$installed" = "$PGL_VERSION $GRAPHQL_VERSION" ]; then
    return
  fi
  log "installing postgraphile@$PGL_VERSION with graphql@$GRAPHQL_VERSION in $PGL_DIR"
  mkdir -p "$PGL_DIR"
  cat >"$PGL_DIR/package.json" <<EOF
{
  "name": "kith-versus-postgraphile",
  "private": true,
  "description": "PostGraphile for benches/versus_postgraphile.sh; graphql must stay 15",
  "dependencies": { "postgraphile": "$PGL_VERSION", "graphql": "$GRAPHQL_VERSION" },
  "overrides": { "graphql": "$GRAPHQL_VERSION" }
}
EOF
  (cd "$PGL_DIR" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  installed=$(cd "$PGL_DIR" &&
    node -p "require('postgraphile/package.json').version + ' ' + require('graphql/package.json').version")
  [ "$installed" = "$PGL_VERSION $GRAPHQL_VERSION" ] || die "npm installed postgraphile/graphql $installed"
}

resolve_kith() {
  if [ -z "${KITH_BIN:-}" ]; then
    log "building the release binary (cargo build --release)"
    cargo build --release --quiet
    KITH_BIN=$ROOT/target/release/kith
  fi
  [ -x "$KITH_BIN" ] || die "KITH_BIN=$KITH_BIN is not an executable"
}

# ---------------------------------------------------------------- database
database_is_seeded() {
  [ "$(psql_admin -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB_NAME'")" = "$MARKER" ]
}

# PostGIS is a package of its own on Debian; the server needs no restart to find it.
ensure_postgis() {
  if psql_db -c 'CREATE EXTENSION IF NOT EXISTS postgis' 2>/dev/null; then
    return
  fi
  local major
  major=$(psql_admin -c 'SHOW server_version_num')
  major=$((major / 10000))
  log "installing postgresql-$major-postgis-3 (apt): CREATE EXTENSION postgis failed"
  apt-get install -y -q "postgresql-$major-postgis-3" >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q "postgresql-$major-postgis-3" >/dev/null; }
  psql_db -c 'CREATE EXTENSION IF NOT EXISTS postgis'
}

prepare_database() {
  local env=(env DATABASE_URL="$DB_URL" RUST_LOG=warn)
  if [ "$RESEED" = 1 ] || ! database_is_seeded; then
    log "making $DB_NAME and seeding it: kith seed ${SEED_ARGS[*]} (a minute or two)"
    psql_admin -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)"
    psql_admin -c "CREATE DATABASE $DB_NAME"
    "${env[@]}" "$KITH_BIN" seed "${SEED_ARGS[@]}"
    # Statistics for every table: without them the planner guesses, badly for event_hosts and users.
    psql_db -c 'VACUUM ANALYZE'
  else
    log "reusing $DB_NAME (seeded: $(psql_db -c "SELECT min(created_at)::date FROM events"); --reseed to redo)"
    # A binary newer than the data may bring migrations.
    "${env[@]}" "$KITH_BIN" migrate
  fi
  ensure_postgis
  psql_db -f "$Q/postgraphile.sql"
  psql_db -c 'ANALYZE events; ANALYZE groups'
  psql_admin -c "COMMENT ON DATABASE $DB_NAME IS '$MARKER'"
  local upcoming
  upcoming=$(psql_db -c "SELECT count(*) FROM events WHERE starts_at >= now()")
  # The seed spreads events over the 90 days after it ran.
  [ "$upcoming" -ge 50000 ] || log "warning: only $upcoming events are still to come; consider --reseed"
}

# ---------------------------------------------------------------- servers
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# POSTs a JSON body file to a GraphQL endpoint; the answer on standard output.
post() { # url body-file [token]
  local auth=()
  [ -n "${3:-}" ] && auth=(-H "authorization: Bearer $3")
  curl -sS --fail-with-body "$1" -H 'content-type: application/json' "${auth[@]}" --data-binary "@$2"
}

wait_until() { # what, command...
  local what=$1
  shift
  for _ in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return
    sleep 0.2
  done
  die "$what did not come up"
}

start_kith() {
  KITH_PORT=$(free_port)
  KITH_METRICS_PORT=$(free_port)
  KITH_URL=http://127.0.0.1:$KITH_PORT/graphql
  # Production mode: no GraphiQL or introspection, /metrics on a listener of its own (read for
  # the statement count). No shutdown grace, so the exit trap is quick.
  DATABASE_URL=$DB_URL KITH_ENV=production RUST_LOG=warn \
    KITH_JWT_SECRET="versus-$(head -c 24 /dev/urandom | base64)" \
    KITH_LISTEN=127.0.0.1:$KITH_PORT KITH_METRICS_LISTEN=127.0.0.1:$KITH_METRICS_PORT \
    KITH_SHUTDOWN_GRACE_SECONDS=0 \
    "$KITH_BIN" serve >"$WORK/kith.log" 2>&1 &
  KITH_PID=$!
  wait_until "kith (log: $WORK/kith.log)" curl -sf "http://127.0.0.1:$KITH_PORT/readyz"
  log "kith on port $KITH_PORT, pid $KITH_PID"
}

start_postgraphile() {
  PGL_PORT=$(free_port)
  PGL_COUNTER_PORT=$(free_port)
  PGL_URL=http://127.0.0.1:$PGL_PORT/graphql
  # node itself (not npx) so $! is the server whose CPU is read; count_queries.js counts its SQL
  # statements (one increment each) on a port of its own. Read-only: no default mutations;
  # simple lists beside connections (the queries use the lists, as an app would when it does
  # not page); functions return no null rows.
  NODE_ENV=production VERSUS_COUNTER_PORT=$PGL_COUNTER_PORT \
    node --require "$Q/count_queries.js" "$PGL_DIR/node_modules/postgraphile/cli.js" \
    --connection "$DB_URL" --schema public \
    --host 127.0.0.1 --port "$PGL_PORT" \
    --disable-graphiql --disable-query-log --disable-default-mutations \
    --simple-collections both --no-setof-functions-contain-nulls --dynamic-json \
    --max-pool-size "$POOL_SIZE" \
    >"$WORK/postgraphile.log" 2>&1 &
  PGL_PID=$!
  printf '{"query":"{ __typename }"}' >"$BODIES/typename.json"
  wait_until "postgraphile (log: $WORK/postgraphile.log)" post "$PGL_URL" "$BODIES/typename.json"
  log "postgraphile on port $PGL_PORT, pid $PGL_PID"
}

# ---------------------------------------------------------------- requests
# A request body: the query from benches/versus/<name>.graphql with JSON variables.
make_body() { # name variables-json
  python3 - "$Q/$1.graphql" "$2" >"$BODIES/$1.json" <<'EOF'
import json, sys
print(json.dumps({"query": open(sys.argv[1]).read(), "variables": json.loads(sys.argv[2])}))
EOF
}

# The subjects: the first event of the home screen (its point read) and the group with the most
# events still to come (its page: 20 of them when the data allows).
choose_subjects() {
  EVENT_UUID=$(psql_db -c "SELECT id FROM search_events_near(52.52, 13.405, 25, 1)")
  GROUP_UUID=$(psql_db -c "SELECT group_id FROM events WHERE ends_at > now()
                           GROUP BY group_id ORDER BY count(*) DESC, group_id LIMIT 1")
  [ -n "$EVENT_UUID" ] && [ -n "$GROUP_UUID" ] || die "no upcoming event near Berlin; try --reseed"
  local event_id group_id
  event_id=$(printf 'Event:%s' "$EVENT_UUID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  group_id=$(printf 'Group:%s' "$GROUP_UUID" | base64 -w0 | tr '+/' '-_' | tr -d '=')
  make_body kith_point "{\"id\": \"$event_id\"}"
  make_body postgraphile_point "{\"id\": \"$EVENT_UUID\"}"
  make_body kith_group "{\"id\": \"$group_id\"}"
  make_body postgraphile_group "{\"id\": \"$GROUP_UUID\"}"
  make_body kith_home '{}'
  make_body kith_home_signed_in '{}'
  make_body postgraphile_home '{}'
}

# Signs a synthetic member in (every one has the password in src/seed/synthetic.rs); access
# tokens live 15 minutes, so this runs again before each signed-in measurement.
sign_in() {
  local email
  email=$(psql_db -c "SELECT email FROM users WHERE email LIKE 'member0.%@synthetic.kith.invalid' LIMIT 1")
  python3 - "$email" >"$BODIES/log_in.json" <<'EOF'
import json, sys
print(json.dumps({"query": "mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }",
                  "variables": {"input": {"email": sys.argv[1], "password": "synthetic-password"}}}))
EOF
  post "$KITH_URL" "$BODIES/log_in.json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["logIn"]["accessToken"])'
}

# Both answers in one shape, to compare: [id, title, start (UTC), going, group, hosts].
normalize() { # kith|postgraphile point|group|home < answer
  python3 -c '
import base64, json, sys
from datetime import datetime, timezone
server, query = sys.argv[1], sys.argv[2]
answer = json.load(sys.stdin)
if answer.get("errors") or not answer.get("data"):
    sys.exit("%s %s: %s" % (server, query, json.dumps(answer)[:500]))
data = answer["data"]
def uuid(id):
    if server == "postgraphile":
        return id
    return base64.urlsafe_b64decode(id + "=" * (-len(id) % 4)).decode().split(":", 1)[1]
def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).isoformat()
def event(e, group=None):
    if server == "kith":
        hosts = [h["displayName"] for h in e["hosts"]]
        group = e["group"]["name"] if "group" in e else group
    else:
        hosts = [h["userByUserId"]["displayName"] for h in e["eventHostsByEventIdList"]]
        group = e["groupByGroupId"]["name"] if "groupByGroupId" in e else group
    return [uuid(e["id"]), e["title"], when(e["startsAt"]), e["goingCount"], group, hosts]
if query == "point":
    out = [event(data["event" if server == "kith" else "eventById"])]
elif query == "group":
    g = data["group" if server == "kith" else "groupById"]
    events = g["upcomingEvents"]["nodes"] if server == "kith" else g["upcomingEventsList"]
    out = [event(e, g["name"]) for e in events]
else:
    events = data["searchEvents"]["nodes"] if server == "kith" else data["searchEventsNearList"]
    out = [event(e) for e in events]
for row in out:
    print(json.dumps(row, ensure_ascii=False))
' "$1" "$2"
}

check_same_answers() {
  local query kith_rows pgl_rows
  for query in point group home; do
    kith_rows=$WORK/answer_kith_$query.txt
    pgl_rows=$WORK/answer_postgraphile_$query.txt
    post "$KITH_URL" "$BODIES/kith_$query.json" | normalize kith "$query" >"$kith_rows"
    post "$PGL_URL" "$BODIES/postgraphile_$query.json" | normalize postgraphile "$query" >"$pgl_rows"
    if ! diff -u --label "kith $query" --label "postgraphile $query" "$kith_rows" "$pgl_rows" >&2; then
      die "kith and postgraphile answer the $query query differently (above)"
    fi
    [ -s "$kith_rows" ] || die "both answer the $query query with nothing"
    log "same answers for $query: $(wc -l <"$kith_rows") events"
  done
  # Signed in, the home screen must list the same events as signed out.
  post "$KITH_URL" "$BODIES/kith_home_signed_in.json" "$(sign_in)" | normalize kith home |
    diff -u --label "kith home signed out" --label "kith home signed in" "$WORK/answer_kith_home.txt" - >&2 ||
    die "kith's signed-in home screen lists other events"
}

# ---------------------------------------------------------------- measurement
# CPU seconds (user + system) of one process, in clock ticks; its threads included.
cpu_of_pid() {
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) } # after the command name, which may hold spaces
  set -- $stat
  echo $((${12} + ${13}))
}

# "pid ticks" for every PostgreSQL backend connected to the benchmark database (its process title
# names the database), so work on other databases of the shared server is not counted.
backend_ticks() {
  local pid stat
  for pid in $(pgrep -f -- "^postgres: .* $DB_NAME " || true); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue # ended meanwhile
    stat=${stat##*) }
    set -- $stat
    echo "$pid $((${12} + ${13}))"
  done
}

# Ticks the backends used between two backend_ticks listings: a backend that started meanwhile
# counts whole; one that ended meanwhile (a pool closing an idle connection) is left out, where
# subtracting totals would count its whole life as negative.
backend_ticks_used() { # before-file after-file
  awk 'NR == FNR { before[$1] = $2; next } { used += $2 - (($1 in before) ? before[$1] : 0) }
       END { print used + 0 }' "$1" "$2"
}

kith_statements() {
  curl -sf "http://127.0.0.1:$KITH_METRICS_PORT/metrics" |
    awk '$1 == "kith_sql_statements_total" { print $2 + 0; found = 1 } END { if (!found) exit 1 }'
}

postgraphile_statements() {
  curl -sf "http://127.0.0.1:$PGL_COUNTER_PORT/"
}

RESULTS=$WORK/results.tsv

# One measured run: warm-up, counters, wrk, counters; a line of $RESULTS.
measure() { # label server(kith|postgraphile) body-name [token]
  local label=$1 server=$2 body=$BODIES/$3.json token=${4:-} pid url out
  if [ "$server" = kith ]; then pid=$KITH_PID url=$KITH_URL; else pid=$PGL_PID url=$PGL_URL; fi
  export VERSUS_BODY=$body VERSUS_TOKEN=$token
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${WARMUP}s" -s "$Q/post.lua" "$url" >/dev/null
  local s0 c0 s1 c1
  s0=$("${server}_statements") || die "$server gave no statement count"
  backend_ticks >"$WORK/ticks_before"
  c0=$(cpu_of_pid "$pid")
  out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" -s "$Q/post.lua" "$url")
  c1=$(cpu_of_pid "$pid")
  backend_ticks >"$WORK/ticks_after"
  s1=$("${server}_statements") || die "$server gave no statement count"
  local requests rps errors non2xx
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  errors=$(awk '/^graphql_errors/ { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || die "wrk made no requests: $out"
  if [ "${errors:-0}" != 0 ] || [ -n "$non2xx" ]; then
    die "$label on $server: ${errors:-?} answers with errors, ${non2xx:-0} non-2xx (see above)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$server" "$requests" "$rps" $((c1 - c0)) \
    "$(backend_ticks_used "$WORK/ticks_before" "$WORK/ticks_after")" $((s1 - s0)) >>"$RESULTS"
  log "$(printf '%-15s %-12s %8s req/s' "$label" "$server" "$rps")"
}

run_rounds() {
  : >"$RESULTS"
  local round
  for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS"
    measure point kith kith_point
    measure point postgraphile postgraphile_point
    measure group kith kith_group
    measure group postgraphile postgraphile_group
    measure "home" kith kith_home
    measure "home" postgraphile postgraphile_home
    measure "home signed in" kith kith_home_signed_in "$(sign_in)"
  done
}

# The table: rates averaged over the rounds, CPU and statements per request over all of them.
report() {
  python3 - "$RESULTS" "$TICKS" <<'EOF'
import sys
from collections import defaultdict
ticks = int(sys.argv[2])
runs = defaultdict(list)
for line in open(sys.argv[1]):
    label, server, *numbers = line.rstrip("\n").split("\t")
    runs[label, server].append([float(n) for n in numbers])
def summary(label, server):
    r = runs[label, server]
    requests = sum(x[0] for x in r)
    return {
        "rps": sum(x[1] for x in r) / len(r),
        "rounds": " / ".join("%.0f" % x[1] for x in r),
        "cpu": sum(x[2] for x in r) / requests * 1000 / ticks,
        "pg": sum(x[3] for x in r) / requests * 1000 / ticks,
        "stmts": sum(x[4] for x in r) / requests,
    }
names = {"point": "point read: event(id:)", "group": "group page: 20 upcoming events",
         "home": "home screen, anonymous", "home signed in": "home screen, signed in"}
head = ["query", "Kith req/s", "PostGraphile req/s", "Kith / PG",
        "server CPU ms/req, Kith / PG", "PostgreSQL CPU ms/req, Kith / PG", "SQL statements/req, Kith / PG"]
lines = []
for label in ["point", "group", "home", "home signed in"]:
    k = summary(label, "kith")
    p = summary("home" if label == "home signed in" else label, "postgraphile")
    lines.append([names[label], "%.0f (%s)" % (k["rps"], k["rounds"]), "%.0f (%s)" % (p["rps"], p["rounds"]),
                  "%.2f" % (k["rps"] / p["rps"]), "%.2f / %.2f" % (k["cpu"], p["cpu"]),
                  "%.2f / %.2f" % (k["pg"], p["pg"]), "%.1f / %.1f" % (k["stmts"], p["stmts"])])
widths = [max(len(row[i]) for row in [head] + lines) for i in range(len(head))]
fmt = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
print(fmt(head))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for row in lines:
    print(fmt(row))
print()
print("req/s: the mean of the rounds (each round in brackets). PostGraphile has no signed-in variant;")
print("its anonymous home screen is the comparison for both. CPU: user + system time of the server")
print("process, and of the postgres backends connected to the benchmark database, per request.")
print("Statements: those each server sent (Kith's kith_sql_statements_total, PostGraphile's pg calls).")
EOF
}

main() {
  local started=$SECONDS
  ensure_tools
  ensure_postgraphile
  resolve_kith
  prepare_database
  start_kith
  start_postgraphile
  choose_subjects
  check_same_answers
  log "measuring: $ROUNDS rounds, $CONNECTIONS connections, $THREADS wrk threads, ${WARMUP}s warm-up + ${SECONDS_PER_RUN}s per run"
  run_rounds
  echo
  echo "Kith ($KITH_BIN) and PostGraphile $PGL_VERSION on $DB_NAME, $(nproc) cores, $(date -u +'%F %H:%M UTC')"
  echo
  report
  log "done in $((SECONDS - started)) s"
}

main
