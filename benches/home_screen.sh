#!/usr/bin/env bash
# The home-screen query under load: searchEvents near Berlin with each event's group name,
# hosts, goingCount and the viewer's RSVP, 32 concurrent connections, measured with oha.
#
#   benches/home_screen.sh                                   # SQLite, 100,000 events
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kith_bench_home benches/home_screen.sh
#
# Data (10,000 groups, 100,000 events, seed 1) is made on the first run and kept:
# target/bench/home.db, or the PostgreSQL database named in DATABASE_URL (created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --quiet
KITH=./target/release/kith
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
  $KITH seed --synthetic --groups 10000 --users 1000 --events 100000 --seed 1
fi
port=$((20000 + RANDOM % 20000))
KITH_LISTEN=127.0.0.1:$port KITH_ENV=production $KITH serve &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
email="bench$RANDOM$RANDOM@example.com"
token=$(curl -s "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
  -d "{\"query\":\"mutation { signUp(input: {email: \\\"$email\\\", password: \\\"benchmark-password\\\", displayName: \\\"Bench\\\"}) { accessToken } }\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signUp"]["accessToken"])')
query='query Home { searchEvents(filter: {near: {lat: 52.52, lng: 13.405}, radiusKm: 25}, first: 20) { edges { distanceKm node { title startsAt goingCount group { name } hosts { displayName } viewerRsvp { status } } } } }'
body=$(python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$query")
# Access tokens live 15 minutes: the run is 30 seconds.
oha -c 32 -z 30s --no-tui -m POST -H 'content-type: application/json' -H "authorization: Bearer $token" \
  -d "$body" "http://127.0.0.1:$port/graphql"
