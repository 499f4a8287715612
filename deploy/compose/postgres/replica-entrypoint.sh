#!/bin/sh
# The streaming replica: on first start, copy the primary with pg_basebackup (-R writes
# primary_conninfo and standby.signal), then run as a hot standby. Its data volume
# persists; a replica that fell too far behind is rebuilt by removing that volume.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres-primary -p 5432 -q; do sleep 1; done
  export PGPASSWORD="$REPLICATION_PASSWORD"
  pg_basebackup -h postgres-primary -p 5432 -U replicator -D "$PGDATA" \
    -R -X stream -S replica1 --checkpoint=fast
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c max_standby_streaming_delay=30s
