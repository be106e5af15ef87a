#!/usr/bin/env bash
# A local PostgreSQL streaming standby of the local primary, for the replica tests (issue 20).
#
#   scripts/pg_replica.sh [start]   create the standby if missing, start it, wait until it
#                                   streams (idempotent: a streaming standby is left alone)
#   scripts/pg_replica.sh status    one line; exit 0 when it runs in recovery, 3 otherwise
#   scripts/pg_replica.sh stop      stop it (kept: `start` resumes streaming)
#   scripts/pg_replica.sh remove    stop and delete it (pg_dropcluster), and take out the
#                                   pg_hba.conf line this script added to the primary, if any
#
# Run as root on Debian with the PostgreSQL server packages installed (postgresql-common): the
# primary is the cluster <version>/main on 127.0.0.1:5432 (trust auth, what .ci/run starts); the
# standby is the cluster <version>/replica on 127.0.0.1:5433, data in
# /var/lib/postgresql/<version>/replica, so `pg_ctlcluster <version> replica start|stop` and
# `pg_lsclusters` know it. It is a copy of the whole primary cluster (pg_basebackup -R -X
# stream, run as the postgres OS user), so every database of the primary, test databases
# included, exists on it under the same name once replayed.
#
# The primary is never restarted: when it refuses replication connections from 127.0.0.1 (no
# pg_hba.conf line for them, or one asking for a password), one trust line for the postgres role
# is put first in its pg_hba.conf (marked, see HBA_MARK) and the configuration is reloaded. The standby accepts what the primary accepts (a copy of its
# pg_hba.conf). While the standby runs, a physical replication slot (caseledger_replica) keeps
# the WAL it has not received yet on the primary (without one, a busy primary recycled the
# segments the new standby needed before it had started); `stop` and `remove` drop the slot, so
# a stopped standby never makes the primary keep WAL. A standby that has fallen too far behind
# to resume is rebuilt by `start`.
#
# Environment: PG_VERSION (default: the one version under /etc/postgresql), PRIMARY_PORT (5432),
# REPLICA_PORT (5433), REPLICA_CLUSTER (replica), REPLICA_SLOT (caseledger_replica),
# REPLICA_WAIT_SECONDS (120).
set -euo pipefail

ACTION="${1:-start}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
REPLICA_PORT="${REPLICA_PORT:-5433}"
CLUSTER="${REPLICA_CLUSTER:-replica}"
SLOT="${REPLICA_SLOT:-caseledger_replica}"
WAIT_SECONDS="${REPLICA_WAIT_SECONDS:-120}"
HOST=127.0.0.1
HBA_MARK="# caseledger scripts/pg_replica.sh: replication to the local standby"
# The standby's hot_standby needs these at least as large as on the primary.
COPIED_SETTINGS=(max_connections max_worker_processes max_wal_senders max_prepared_transactions
  max_locks_per_transaction)

say() { echo "pg_replica: $*"; }
die() {
  echo "pg_replica: $*" >&2
  exit 1
}

if [ -z "${PG_VERSION:-}" ]; then
  versions=$(ls /etc/postgresql 2>/dev/null || true)
  [ -n "$versions" ] || die "no cluster under /etc/postgresql (install postgresql first)"
  [ "$(echo "$versions" | wc -l)" -eq 1 ] || die "several versions under /etc/postgresql: set PG_VERSION"
  PG_VERSION="$versions"
fi
BIN="/usr/lib/postgresql/$PG_VERSION/bin"
CONF_DIR="/etc/postgresql/$PG_VERSION/$CLUSTER"
DATA_DIR="/var/lib/postgresql/$PG_VERSION/$CLUSTER"

# -w: never wait for a password at a prompt (the clusters trust 127.0.0.1).
primary() { psql -X -q -w -h "$HOST" -p "$PRIMARY_PORT" -U postgres -d postgres -Atc "$1"; }
standby() { psql -X -q -w -h "$HOST" -p "$REPLICA_PORT" -U postgres -d postgres -Atc "$1"; }
exists() { [ -f "$CONF_DIR/postgresql.conf" ]; }
ready() { "$BIN/pg_isready" -q -h "$HOST" -p "$REPLICA_PORT" 2>/dev/null; }
ctl() { pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$CLUSTER" "$@"; }

# Poll `$@` (a command) until it succeeds or WAIT_SECONDS pass; 1 when it never did.
wait_for() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

streaming() {
  ready && [ "$(standby "SELECT pg_is_in_recovery()" 2>/dev/null)" = "t" ] \
    && [ "$(standby "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = "streaming" ]
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The standby has replayed the primary's WAL up to $1 (an LSN).
replayed() { [ "$(standby "SELECT pg_last_wal_replay_lsn() >= '$1'::pg_lsn")" = "t" ]; }

# Wait until the standby has replayed everything the primary had written when called.
report() {
  local lsn started
  # A test that paused replay (pg_wal_replay_pause) and died before resuming it.
  if [ "$(standby "SELECT pg_is_wal_replay_paused()")" = "t" ]; then
    say "replay was paused: resuming it"
    standby "SELECT pg_wal_replay_resume()" >/dev/null
  fi
  lsn=$(primary "SELECT pg_current_wal_lsn()")
  started=$(now_ms)
  wait_for replayed "$lsn" || die "the standby did not replay the primary's WAL up to $lsn within ${WAIT_SECONDS}s"
  say "streaming: $HOST:$REPLICA_PORT ($PG_VERSION/$CLUSTER, in recovery) from $HOST:$PRIMARY_PORT;" \
    "replayed the primary's $lsn in $(($(now_ms) - started)) ms"
}

check_primary() {
  "$BIN/pg_isready" -q -h "$HOST" -p "$PRIMARY_PORT" \
    || die "the primary does not answer on $HOST:$PRIMARY_PORT"
  local level senders
  level=$(primary "SHOW wal_level")
  senders=$(primary "SHOW max_wal_senders")
  case "$level" in replica | logical) ;; *) die "the primary's wal_level is $level: needs replica (a restart)" ;; esac
  # pg_basebackup -X stream holds two WAL senders while it copies; the standby then holds one.
  [ "$senders" -ge 2 ] || die "the primary's max_wal_senders is $senders: needs at least 2 (a restart)"
  say "primary $HOST:$PRIMARY_PORT: wal_level=$level, max_wal_senders=$senders"
}

replication_allowed() {
  psql -X -q -w "host=$HOST port=$PRIMARY_PORT user=postgres replication=true" \
    -Atc "IDENTIFY_SYSTEM" >/dev/null 2>&1
}

allow_replication() {
  if replication_allowed; then
    say "the primary's pg_hba.conf already allows replication connections from $HOST"
    return
  fi
  local hba
  hba=$(primary "SHOW hba_file")
  say "the primary's pg_hba.conf ($hba) refuses replication from $HOST:" \
    "adding 'host replication postgres $HOST/32 trust' as its first rule and reloading (no restart)"
  # First: the first matching line decides (Debian's default has a password line for it).
  local rest
  rest=$(cat "$hba")
  printf '%s\nhost replication postgres %s/32 trust\n%s\n' "$HBA_MARK" "$HOST" "$rest" >"$hba"
  primary "SELECT pg_reload_conf()" >/dev/null
  wait_for replication_allowed || die "replication from $HOST still refused after the reload"
}

drop_slot() {
  local dropped
  dropped=$(primary "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots
    WHERE slot_name = '$SLOT' AND NOT active")
  [ "$dropped" = "0" ] || say "dropped the primary's replication slot $SLOT"
}

ensure_slot() {
  primary "SELECT pg_create_physical_replication_slot('$SLOT', true) WHERE NOT EXISTS
    (SELECT FROM pg_replication_slots WHERE slot_name = '$SLOT')" >/dev/null
}

create() {
  check_primary
  allow_replication
  drop_slot
  say "creating cluster $PG_VERSION/$CLUSTER on port $REPLICA_PORT (data: $DATA_DIR)"
  pg_createcluster --start-conf manual -p "$REPLICA_PORT" "$PG_VERSION" "$CLUSTER" >/dev/null
  {
    echo "# scripts/pg_replica.sh: a hot standby of $HOST:$PRIMARY_PORT"
    echo "listen_addresses = '$HOST'"
    echo "hot_standby = on"
    echo "shared_buffers = 32MB"
    # The first start syncs the copied data directory (it is a backup); syncfs is one call.
    echo "recovery_init_sync_method = syncfs"
    for name in "${COPIED_SETTINGS[@]}"; do echo "$name = $(primary "SHOW $name")"; done
  } >"$CONF_DIR/conf.d/90-replica.conf"
  cp "$(primary "SHOW hba_file")" "$CONF_DIR/pg_hba.conf"
  # Replace the fresh cluster's data with a copy of the primary's.
  find "$DATA_DIR" -mindepth 1 -delete
  local started
  started=$(now_ms)
  (cd / && runuser -u postgres -- "$BIN/pg_basebackup" -h "$HOST" -p "$PRIMARY_PORT" -U postgres \
    -D "$DATA_DIR" -R -X stream -c fast -C -S "$SLOT" --no-sync)
  # The copied postgresql.auto.conf carries whatever ALTER SYSTEM set on the primary (a port,
  # say); the standby's own address goes last so it wins.
  printf "port = %s\nlisten_addresses = '%s'\n" "$REPLICA_PORT" "$HOST" >>"$DATA_DIR/postgresql.auto.conf"
  say "base backup of $(du -sh "$DATA_DIR" | cut -f1) copied in $(($(now_ms) - started)) ms"
}

start() {
  [ "$(id -u)" -eq 0 ] || die "run as root (it runs pg_createcluster and pg_basebackup as postgres)"
  if exists && ready; then
    [ "$(standby "SELECT pg_is_in_recovery()")" = "t" ] \
      || die "$HOST:$REPLICA_PORT answers but is not in recovery (promoted?): '$0 remove' first"
    if wait_for streaming; then
      say "already running"
      report
      return
    fi
    say "running but not streaming from the primary: rebuilding"
    remove_cluster
  fi
  if exists; then
    say "starting the existing standby"
    ensure_slot
    ctl start || say "pg_ctl did not see it ready yet: waiting up to ${WAIT_SECONDS}s for it to stream"
    if ! wait_for streaming; then
      say "it does not stream (fallen behind the primary's WAL?): rebuilding"
      remove_cluster
    fi
  fi
  if ! exists; then
    ! ready || die "something else answers on $HOST:$REPLICA_PORT (not cluster $PG_VERSION/$CLUSTER)"
    create
    # pg_ctl gives up waiting after 60 s while a large copy is still being synced: the server
    # goes on starting, and the wait below is what decides.
    ctl start || say "pg_ctl did not see it ready yet: waiting up to ${WAIT_SECONDS}s for it to stream"
    wait_for streaming || die "the standby did not start streaming within ${WAIT_SECONDS}s (log: /var/log/postgresql/postgresql-$PG_VERSION-$CLUSTER.log)"
  fi
  report
}

remove_cluster() {
  if exists; then
    pg_dropcluster --stop "$PG_VERSION" "$CLUSTER"
    say "removed cluster $PG_VERSION/$CLUSTER"
  fi
  drop_slot
}

remove() {
  local hba
  if ! hba=$(primary "SHOW hba_file" 2>/dev/null); then
    pg_dropcluster --stop "$PG_VERSION" "$CLUSTER" 2>/dev/null || true
    say "the primary does not answer: its slot $SLOT and pg_hba.conf were not checked"
    return
  fi
  remove_cluster
  if grep -qxF "$HBA_MARK" "$hba"; then
    # The marker line and the one after it (the line this script added); the file keeps its
    # owner and mode (rewritten in place).
    local kept
    kept=$(awk -v mark="$HBA_MARK" '$0 == mark {skip = 1; next} skip {skip = 0; next} {print}' "$hba")
    printf '%s\n' "$kept" >"$hba"
    primary "SELECT pg_reload_conf()" >/dev/null
    say "took the replication line out of $hba and reloaded the primary"
  fi
}

case "$ACTION" in
  start) start ;;
  status)
    if exists && ready && [ "$(standby "SELECT pg_is_in_recovery()")" = "t" ]; then
      # The standby's position first: the primary's, read after it, is never behind it.
      lsn=$(standby "SELECT pg_last_wal_replay_lsn()")
      say "running on $HOST:$REPLICA_PORT, in recovery, receiver" \
        "$(standby "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'down')"), replayed" \
        "$lsn, $(primary "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn')") bytes behind the primary"
    else
      say "not running ($(exists && echo "cluster $PG_VERSION/$CLUSTER exists" || echo "no cluster $PG_VERSION/$CLUSTER"))"
      exit 3
    fi
    ;;
  stop)
    if exists && ready; then ctl stop; fi
    drop_slot
    say "stopped"
    ;;
  remove) remove ;;
  *) die "usage: $0 [start|status|stop|remove]" ;;
esac
