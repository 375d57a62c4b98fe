#!/usr/bin/env bash
# Full-text search at scale (issue 19): p50/p99 of searchGroups by words, with and without
# `near`, through HTTP against the release server, on SQLite and PostgreSQL; and, for
# comparison, the old LIKE scan's SQL on the same rows.
#
#   benches/full_text.sh                       # 1,000,000 groups; seeds once, reuses after
#   FTS_GROUPS=100000 benches/full_text.sh     # a smaller set (its own files)
#   FTS_PG=postgres://postgres@127.0.0.1:5432 benches/full_text.sh   # PostgreSQL server
#   FTS_REQUESTS=200 KITH_BIN=target/release/kith benches/full_text.sh
#
# Data: `kith seed --synthetic --groups $FTS_GROUPS --seed 1` (names like "Berlin Chess Club
# #17", descriptions naming the interests and the city), into target/bench/fts-<n>.db and the
# database kith_fts_<n>. Each query runs FTS_REQUESTS (200) times one after another, after 20
# of warm-up; the times are curl's. The LIKE figures time the statement the old search ran
# (a lower-cased copy of name and description, `LIKE '%word%'` per word) on the same rows, in
# the database's own client, without the server.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${FTS_GROUPS:-1000000}
REQUESTS=${FTS_REQUESTS:-200}
PG=${FTS_PG:-postgres://postgres@127.0.0.1:5432}
if [ -z "${KITH_BIN:-}" ]; then
  cargo build --release --quiet
  KITH_BIN=./target/release/kith
fi
command -v sqlite3 >/dev/null || apt-get install -y sqlite3 >/dev/null
mkdir -p target/bench
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

serve() { # database-url
  local port=$((20000 + RANDOM % 20000))
  DATABASE_URL="$1" KITH_MAIL_DIR="$work/mail" KITH_MEDIA_DIR="$work/media" KITH_ENV=production \
    KITH_JWT_SECRET="full-text benchmark secret, long enough" KITH_LISTEN="127.0.0.1:$port" \
    KITH_BACKGROUND_JOBS=off RUST_LOG=error "$KITH_BIN" &
  server=$!
  url="http://127.0.0.1:$port/graphql"
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start" >&2; exit 1
}

stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=; }

# p50 and p99 in ms of FTS_REQUESTS runs of a searchGroups filter; and how many it found.
timed() { # label filter
  local body="{\"query\":\"{ searchGroups(filter: $2, first: 20) { edges { node { name } } } }\"}"
  local found
  found=$(curl -sf "$url" -H 'content-type: application/json' -d "$body" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert "errors" not in d, d; print(len(d["data"]["searchGroups"]["edges"]))')
  for _ in $(seq 1 20); do curl -sf -o /dev/null "$url" -H 'content-type: application/json' -d "$body"; done
  for _ in $(seq 1 "$REQUESTS"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "$url" -H 'content-type: application/json' -d "$body"
  done | sort -n | awk -v label="$1" -v found="$found" '{ t[NR] = $1 * 1000 }
    END { printf "  %-44s p50 %7.2f ms  p99 %7.2f ms  (%s on the first page)\n", label, t[int(NR * 0.5)], t[int(NR * 0.99)], found }'
}

queries() {
  timed "words, no near: \\\"chess berlin\\\"" '{query: \"chess berlin\"}'
  timed "a common prefix, no near: \\\"17\\\"" '{query: \"17\"}'
  timed "words and near Berlin, 25 km" '{query: \"chess\", near: {lat: 52.52, lng: 13.405}, radiusKm: 25}'
  timed "near Berlin, 25 km, no words" '{near: {lat: 52.52, lng: 13.405}, radiusKm: 25}'
}

# The old search's statement, for a word list, on the seeded rows.
like_sql() {
  echo "SELECT id FROM (SELECT id, lower(name || ' ' || description) AS t FROM groups) g
        WHERE t LIKE '%chess%' AND t LIKE '%berlin%' LIMIT 21"
}

# --------------------------------------------------------------------------- SQLite
db=target/bench/fts-$COUNT.db
if [ ! -f "$db" ]; then
  log "seeding $COUNT groups into $db"
  DATABASE_URL="sqlite://$db?mode=rwc" RUST_LOG=warn "$KITH_BIN" seed --synthetic --groups "$COUNT" --seed 1 >/dev/null
fi
serve "sqlite://$db"
echo "SQLite, $COUNT groups ($(du -h "$db" | cut -f1))"
queries
stop
start=$(date +%s%N)
for _ in $(seq 1 5); do sqlite3 "$db" "$(like_sql)" >/dev/null; done
echo "  old LIKE scan of \"chess berlin\" (the statement alone): $(( ($(date +%s%N) - start) / 5000000 )) ms"

# --------------------------------------------------------------------------- PostgreSQL
name=kith_fts_$COUNT
if ! psql "$PG/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
  log "seeding $COUNT groups into $name"
  psql "$PG/postgres" -qc "CREATE DATABASE $name"
  DATABASE_URL="$PG/$name" RUST_LOG=warn "$KITH_BIN" seed --synthetic --groups "$COUNT" --seed 1 >/dev/null
  psql "$PG/$name" -qc "VACUUM ANALYZE"
fi
serve "$PG/$name"
echo "PostgreSQL, $COUNT groups"
queries
stop
start=$(date +%s%N)
for _ in $(seq 1 5); do psql "$PG/$name" -Atqc "$(like_sql)" >/dev/null; done
echo "  old LIKE scan of \"chess berlin\" (the statement alone): $(( ($(date +%s%N) - start) / 5000000 )) ms"
