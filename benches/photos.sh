#!/usr/bin/env bash
# Photos under load: the time and the server's peak memory to process one 12-megapixel JPEG,
# and the server's RSS while 8 uploads run at once (issue 17).
#
#   benches/photos.sh                          # release build, SQLite in a temporary folder
#   KITH_BIN=path/to/kith benches/photos.sh
#
# The picture is 4000 x 3000 (ImageMagick's plasma fractal, JPEG quality 90), made once into
# target/bench/photo-12mp.jpg. Each upload is `setAvatar` by the GraphQL multipart request
# spec, as Apollo sends it, by one member (60 uploads an hour is the limit, far above 9).
# Printed: the single upload's time as curl saw it; the server's RSS before, its peak during
# the single upload and during the 8 at once (VmHWM from /proc, and VmRSS sampled every 20 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
# ImageMagick's own convert (Debian: convert-im6.q16), not whatever else is on PATH first.
im() { command -v magick || ls /usr/bin/convert-im6* 2>/dev/null | head -1; }
[ -n "$(im)" ] || { echo "installing imagemagick"; apt-get install -y imagemagick >/dev/null; }
IM=$(im)
if [ -z "${KITH_BIN:-}" ]; then
  cargo build --release --quiet
  KITH_BIN=./target/release/kith
fi
mkdir -p target/bench
photo=target/bench/photo-12mp.jpg
[ -f "$photo" ] || "$IM" -size 4000x3000 plasma:fractal -quality 90 "$photo"
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
DATABASE_URL="sqlite://$work/kith.db?mode=rwc" KITH_MEDIA_DIR="$work/media" KITH_MAIL_DIR="$work/mail" \
  KITH_JWT_SECRET="photos benchmark secret, long enough!" KITH_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
  "$KITH_BIN" &
server=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done

token=$(curl -sf "$url/graphql" -H 'content-type: application/json' -d '{"query":"mutation { signUp(input: {email: \"p@example.com\", password: \"correct horse battery\", displayName: \"P\"}) { accessToken } }"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signUp"]["accessToken"])')
upload() {
  curl -s -o "$work/out.$1" -w '%{http_code} %{time_total}\n' "$url/graphql" \
    -H "Authorization: Bearer $token" -H 'Apollo-Require-Preflight: true' \
    -F 'operations={"query":"mutation($f: Upload!) { setAvatar(input: {file: $f}) { avatar { width height } } }","variables":{"f":null}}' \
    -F 'map={"0":["variables.f"]}' -F "0=@$photo;type=image/jpeg"
}
field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server/status"; }
sampler() { local max=0; while kill -0 "$server" 2>/dev/null && [ ! -f "$work/stop" ]; do
  r=$(field VmRSS); [ "$r" -gt "$max" ] && max=$r; echo "$max" > "$work/max"; sleep 0.02; done; }

echo "picture: $(stat -c %s "$photo") bytes, 4000 x 3000"
echo "server RSS idle: $(field VmRSS) KiB"
upload 0 >/dev/null # warm up (allocator, first connection)
echo "after one warm-up upload: RSS $(field VmRSS) KiB, peak so far $(field VmHWM) KiB"
for i in 1 2 3; do echo "one upload: HTTP status and seconds: $(upload "s$i")"; done
echo "peak after single uploads: $(field VmHWM) KiB"
rm -f "$work/stop"; sampler & sampling=$!
start=$(date +%s.%N)
for i in $(seq 1 8); do upload "c$i" > "$work/times.$i" & done
wait $(jobs -p | grep -v "^$sampling$" | grep -v "^$server$") 2>/dev/null || true
end=$(date +%s.%N)
touch "$work/stop"; wait "$sampling" 2>/dev/null || true
echo "8 at once: $(cat "$work"/times.* | awk '{print $1}' | sort | uniq -c | tr '\n' ' ')(status counts), all done in $(echo "$end - $start" | bc) s"
echo "RSS during the 8 (sampled max): $(cat "$work/max") KiB; peak ever (VmHWM): $(field VmHWM) KiB; RSS after: $(field VmRSS) KiB"
sleep 10
echo "RSS 10 s later: $(field VmRSS) KiB"
grep -h '"errors"' "$work"/out.* | head -3 || true
