#!/bin/sh
# Set up and run a real HMA (OpenMediaMatch from facebook/ThreatExchange) for bench/bench_throughput.py,
# outside this repository: nothing of HMA is committed here.
#
#   bench/hma_server.sh setup  OMM_DIR VENV DBNAME HASHES   # venv, schema, bank of HASHES (one PDQ hex a line), index
#   bench/hma_server.sh serve  OMM_DIR VENV DBNAME WORKERS PORT   # gunicorn in the foreground
#
# OMM_DIR is a checkout's hasher-matcher-actioner/ folder. PostgreSQL at 127.0.0.1:5432 with trust auth
# (user postgres). The bank is written with COPY straight into HMA's tables (bank, bank_content,
# content_signal), then HMA's own `flask build_indices` builds its PDQ index as its indexer would.
set -eu
cmd=$1 omm=$2 venv=$3 db=$4
cfg=$(mktemp --suffix=.py)
cat > "$cfg" <<EOF
from OpenMediaMatch.storage.postgres.impl import DefaultOMMStore
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.content_type.photo import PhotoContent
from threatexchange.content_type.video import VideoContent
from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
DATABASE_URI = "postgresql+psycopg2://postgres@127.0.0.1/$db"
PRODUCTION = True
ROLE_HASHER = True
ROLE_MATCHER = True
ROLE_CURATOR = True
UI_ENABLED = False
TASK_FETCHER = False
TASK_INDEXER = False
TASK_INDEX_CACHE = True
STORAGE_IFACE_INSTANCE = DefaultOMMStore(
    signal_types=[PdqSignal, VideoMD5Signal],
    content_types=[PhotoContent, VideoContent],
    exchange_types=[StaticSampleSignalExchangeAPI],
)
EOF
export OMM_CONFIG="$cfg"
cd "$omm/src"
case $cmd in
setup)
  hashes=$5
  if [ ! -x "$venv/bin/gunicorn" ]; then
    python3.11 -m venv "$venv"
    "$venv/bin/pip" install -q flask flask_sqlalchemy flask_migrate psycopg2-binary requests "threatexchange>=1.2.16" \
      flask_apscheduler python-dateutil python-json-logger "flask-openapi3[swagger]" gunicorn
    "$venv/bin/pip" install -q --no-deps -e "$omm"
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  MIGRATION_COMMAND=1 "$venv/bin/flask" --app OpenMediaMatch.app db upgrade --directory OpenMediaMatch/migrations
  n=$(wc -l < "$hashes")
  psql -h 127.0.0.1 -U postgres -d "$db" -q <<EOF
INSERT INTO bank (id, name, enabled_ratio) VALUES (1, 'BENCH', 1.0);
CREATE TEMP TABLE h (val text);
\copy h FROM '$hashes'
CREATE TEMP TABLE hn AS SELECT row_number() OVER () AS id, val FROM h WHERE val <> '';
INSERT INTO bank_content (id, bank_id, disable_until_ts) SELECT id, 1, 1 FROM hn;
INSERT INTO content_signal (content_id, signal_type, signal_val, create_time) SELECT id, 'pdq', val, now() FROM hn;
SELECT setval('bank_content_id_seq', (SELECT max(id) FROM bank_content));
EOF
  echo "banked $n PDQ hashes; building HMA's index" >&2
  /usr/bin/time -f "build_indices %e s, peak %M KB" "$venv/bin/flask" --app OpenMediaMatch.app build_indices
  ;;
serve)
  workers=$5 port=$6
  exec "$venv/bin/gunicorn" --workers "$workers" --bind "127.0.0.1:$port" --log-level warning \
    "OpenMediaMatch.app:create_app()"
  ;;
esac
