#!/usr/bin/env bash
# The home-screen query under load: searchEvents near Berlin (25 km, first 20) with each
# event's group name, hosts and goingCount, anonymous and signed in (then also the viewer's
# RSVP), 32 concurrent connections for 20 s each, measured with wrk.
#
#   benches/home_screen.sh                                   # SQLite, 100,000 events
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kith_bench_home benches/home_screen.sh
#   KITH_BIN=path/to/kith DURATION=30s benches/home_screen.sh
#
# Data (10,000 groups, 1,000 members, 100,000 events, seed 1) is made on the first run and
# kept: target/bench/home.db, or the PostgreSQL database named in DATABASE_URL (created if
# missing). Printed per run: requests/s, p50 and p99, the server's CPU per request (from
# /proc), SQL statements per request (`kith_sql_statements_total`), and the server's RSS idle,
# at the end of the runs and a minute after.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
if [ -z "${KITH_BIN:-}" ]; then
  cargo build --release --quiet
  KITH_BIN=./target/release/kith
fi
DURATION="${DURATION:-20s}"
mkdir -p target/bench
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/target/bench/home.db?mode=rwc}"
export KITH_JWT_SECRET="home screen benchmark secret, long enough"
export RUST_LOG=warn
if [[ "$DATABASE_URL" == postgres* ]]; then
  base="${DATABASE_URL%/*}/test"; name="${DATABASE_URL##*/}"
  psql "$base" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 ||
    psql "$base" -qc "CREATE DATABASE $name"
  count=$(psql "$DATABASE_URL" -Atqc "SELECT count(*) FROM events" 2>/dev/null || echo 0)
else
  count=$(python3 -c "import sqlite3,sys; print(sqlite3.connect('target/bench/home.db').execute('select count(*) from events').fetchone()[0])" 2>/dev/null || echo 0)
fi
if [ "$count" != "100000" ]; then
  echo "seeding 10,000 groups and 100,000 events ..."
  $KITH_BIN seed --synthetic --groups 10000 --users 1000 --events 100000 --seed 1
fi

port=$((20000 + RANDOM % 20000))
metrics_port=$((port + 1))
KITH_LISTEN=127.0.0.1:$port KITH_METRICS_LISTEN=127.0.0.1:$metrics_port KITH_ENV=production \
  KITH_SIGN_UPS_PER_HOUR=1000 $KITH_BIN serve &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
statements() {
  curl -s "http://127.0.0.1:$metrics_port/metrics" | awk '/^kith_sql_statements_total/ {print $2}'
}
ticks_per_second=$(getconf CLK_TCK)

email="bench$RANDOM$RANDOM@example.com"
token=$(curl -s "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
  -d "{\"query\":\"mutation { signUp(input: {email: \\\"$email\\\", password: \\\"benchmark-password\\\", displayName: \\\"Bench\\\"}) { accessToken } }\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signUp"]["accessToken"])')
fields='title startsAt goingCount group { name } hosts { displayName }'
anonymous="query Home { searchEvents(filter: {near: {lat: 52.52, lng: 13.405}, radiusKm: 25}, first: 20) { edges { distanceKm node { $fields } } } }"
signed="query Home { searchEvents(filter: {near: {lat: 52.52, lng: 13.405}, radiusKm: 25}, first: 20) { edges { distanceKm node { $fields viewerRsvp { status } } } } }"

script=$(mktemp --suffix=.lua)
trap 'kill $server 2>/dev/null; rm -f "$script"' EXIT

# One run: wrk with the body and headers, then the server's CPU and statements per request.
run() {
  local label=$1 query=$2 auth=$3
  python3 - "$query" "$auth" >"$script" <<'EOF'
import json, sys
query, auth = sys.argv[1], sys.argv[2]
print('wrk.method = "POST"')
print('wrk.headers["content-type"] = "application/json"')
if auth:
    print('wrk.headers["authorization"] = %s' % json.dumps("Bearer " + auth))
print('wrk.body = %s' % json.dumps(json.dumps({"query": query})))
EOF
  wrk -t2 -c32 -d2s -s "$script" "http://127.0.0.1:$port/graphql" >/dev/null # warm-up
  local cpu0 stmts0 cpu1 stmts1 out
  cpu0=$(cpu_ticks); stmts0=$(statements)
  out=$(wrk -t2 -c32 -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$port/graphql")
  cpu1=$(cpu_ticks); stmts1=$(statements)
  python3 - "$label" "$out" "$cpu0" "$cpu1" "$stmts0" "$stmts1" "$ticks_per_second" <<'EOF'
import re, sys
label, out, cpu0, cpu1, s0, s1, hz = sys.argv[1:]
total = int(re.search(r"(\d+) requests in", out).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = re.search(r"50%\s+(\S+)", out).group(1)
p99 = re.search(r"99%\s+(\S+)", out).group(1)
cpu_ms = (int(cpu1) - int(cpu0)) / int(hz) * 1000 / max(total, 1)
stmts = (float(s1) - float(s0)) / max(total, 1)
print(f"{label:<22} {rps:8.0f} req/s  p50 {p50:>8}  p99 {p99:>8}  "
      f"server CPU {cpu_ms:.2f} ms/req  {stmts:.2f} statements/req"
      + (f"  NON-2XX: {errors.group(1)}" if errors else ""))
EOF
}

echo "database: ${DATABASE_URL%%\?*}"
echo "server RSS idle: $(rss_mib) MiB"
run "home, anonymous" "$anonymous" ""
run "home, signed in" "$signed" "$token"
echo "server RSS after the runs: $(rss_mib) MiB"
sleep 60
echo "server RSS a minute later: $(rss_mib) MiB"
