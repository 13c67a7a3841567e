#!/usr/bin/env bash
# `make loadtest`: 50 users for 60 seconds against the portal as it is deployed, on loopback:
# gunicorn (4 workers, production settings, HTTPS with a throwaway certificate), PostgreSQL
# (a database of the load test's own, dropped and re-created), a Celery worker and beat on a
# Redis server started for the run. Users mix dashboards, agreement pages, API reads and
# uploads through the page. Fails unless every request succeeded and every upload was
# evaluated. Figures and logs go to $LOADTEST_OUT (a new folder under /tmp by default).
#
#   LOADTEST_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/portal_load (its name must contain "load")
#   LOADTEST_USERS_COUNT   default 50      LOADTEST_SECONDS   default 60 (of the mix, once all are signed in)
#   LOADTEST_WAIT          default 2,5 (seconds a user spends on a page before the next click)
#   LOADTEST_WEB_WORKERS   default 4       LOADTEST_OUT       default a new /tmp/portal-loadtest-* folder
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
export LOADTEST_USERS_COUNT=${LOADTEST_USERS_COUNT:-50}
export LOADTEST_SECONDS=${LOADTEST_SECONDS:-60}
export LOADTEST_WAIT=${LOADTEST_WAIT:-2,5}
users=$LOADTEST_USERS_COUNT
duration=${LOADTEST_SECONDS}s
web_workers=${LOADTEST_WEB_WORKERS:-4}
out=${LOADTEST_OUT:-$(mktemp -d /tmp/portal-loadtest-XXXXXX)}
mkdir -p "$out"
export LOADTEST_OUT=$out

free_port() { "$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
web_port=$(free_port)

# Every process started here runs in a process group of its own, stopped on the way out.
groups=()
start() {
  local log=$1
  shift
  setsid "$@" >>"$out/$log" 2>&1 &
  groups+=($!)
}
stop_all() {
  for pid in "${groups[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${groups[@]}"; do
    for _ in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT

export DJANGO_SETTINGS_MODULE=portal.settings.production
SECRET_KEY=$("$bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL=${LOADTEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_load}
export REDIS_URL=redis://127.0.0.1:$redis_port/0
export STATIC_ROOT=$out/static
export CELERY_BEAT_SCHEDULE_FILENAME=$out/celerybeat-schedule
# Alerts are raised and their deliveries recorded; no e-mail leaves the machine.
export EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
export LOG_LEVEL=WARNING
export LOADTEST_USERS=$out/users.json
export PYTHONUNBUFFERED=1

echo "== load test: $users users for $duration (pages read for $LOADTEST_WAIT s); figures and logs in $out"
echo "   machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
start redis.log redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no
"$bin/python" - <<'PY'
"""Drop and re-create the load test's own database (never one whose name lacks "load")."""
import os
import time
from urllib.parse import urlsplit

import psycopg
import redis

for _ in range(50):
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
        break
    except redis.RedisError:
        time.sleep(0.1)
url = urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
if "load" not in name:
    raise SystemExit(f"refusing to drop the database {name!r}: the load test's database name must contain 'load'")
with psycopg.connect(
    host=url.hostname, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres", autocommit=True
) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"')
PY
"$bin/python" manage.py migrate --no-input -v 0
"$bin/python" manage.py collectstatic --no-input -v 0
"$bin/python" loadtest/portfolio.py seed "$LOADTEST_USERS"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -keyout "$out/key.pem" -out "$out/cert.pem" 2>/dev/null

start worker.log env LOG_LEVEL=INFO "$bin/celery" -A portal worker --concurrency=2 --loglevel=INFO
start beat.log "$bin/celery" -A portal beat --loglevel=INFO
start gunicorn.log "$bin/gunicorn" portal.wsgi --bind "127.0.0.1:$web_port" --workers "$web_workers" \
  --certfile "$out/cert.pem" --keyfile "$out/key.pem" --timeout 60
for _ in $(seq 1 100); do
  curl -ksf -o /dev/null "https://127.0.0.1:$web_port/accounts/login/" && break
  sleep 0.2
done
# The seed's own evaluations raised alerts: let the worker deliver them before the load starts.
"$bin/python" - <<'PY'
import os
import time

import redis

client = redis.Redis.from_url(os.environ["REDIS_URL"])
deadline = time.monotonic() + 300
while (client.llen("celery") or client.hlen("unacked")) and time.monotonic() < deadline:
    time.sleep(0.5)
PY

echo "== locust"
set +e
"$bin/locust" -f loadtest/locustfile.py --headless --host "https://127.0.0.1:$web_port" \
  --csv "$out/locust" --only-summary --loglevel WARNING --stop-timeout 15 >"$out/locust.log" 2>&1
locust_exit=$?
set -e

echo "== every upload evaluated?"
set +e
verified=$("$bin/python" loadtest/portfolio.py verify)
verify_exit=$?
set -e
echo "$verified"

set +e
"$bin/python" - "$out" "$verified" "$users" "$duration" >"$out/summary.md" <<'PY'
"""The run's figures, as the table docs/reliability.md shows."""
import csv
import json
import os
import sys
from pathlib import Path

out, verified, users, duration = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = list(csv.DictReader(open(out / "locust_stats.csv")))
sign_in = json.loads((out / "sign_in.json").read_text()) if (out / "sign_in.json").exists() else {}
print(f"\nSigning in ({users} users at once, before the mix):")
for name, entry in sign_in.items():
    print(f"  {name}: {entry['count']} requests, {entry['failures']} failures, p50 {entry['p50']} ms, p95 {entry['p95']} ms")
print(f"\nThe mix: {users} users for {duration}, gunicorn + PostgreSQL + Celery worker and beat on loopback")
print(f"(each user reads a page for {os.environ['LOADTEST_WAIT']} s before the next click)\n")
print("| request | count | failures | p50 ms | p95 ms | p99 ms |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for row in rows:
    if row["Request Count"] == "0":  # sign-in rows: reported above
        continue
    name = "**all requests**" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
    print(f"| {name} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | {row['95%']} | {row['99%']} |")
total = next(r for r in rows if r["Name"] == "Aggregated")
confirmed = next((r for r in rows if r["Name"] == "upload: confirmed"), None)
accepted = int(confirmed["Request Count"]) - int(confirmed["Failure Count"]) if confirmed else 0
print(
    f"\nerrors: {total['Failure Count']}; uploads confirmed: {accepted}; uploads recorded: "
    f"{verified['uploads_recorded']}; agreements still awaiting evaluation: "
    f"{verified['agreements_awaiting_evaluation']}; results a fresh evaluation would change: "
    f"{verified['results_a_fresh_evaluation_would_change']}"
    " (an upload confirmed as the run stopped is recorded, its answer not counted)"
)
failed_sign_ins = sum(entry["failures"] for entry in sign_in.values())
if not sign_in or failed_sign_ins or int(total["Failure Count"]) or accepted == 0:
    sys.exit(1)
if accepted > verified["uploads_recorded"]:  # a confirmed upload that was not recorded
    sys.exit(1)
PY
summary_exit=$?
set -e
cat "$out/summary.md"
echo "machine after the run: load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$locust_exit" -ne 0 ] || [ "$verify_exit" -ne 0 ] || [ "$summary_exit" -ne 0 ]; then
  echo "load test FAILED (locust $locust_exit, verify $verify_exit, summary $summary_exit); see $out" >&2
  exit 1
fi
echo "load test passed; figures and logs in $out"
