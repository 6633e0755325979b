#!/usr/bin/env bash
# Two independent Slurm clusters on loopback, for the `slurm` connector's tests and for trying it by hand.
#
#   clusters.sh up                  install Slurm from Debian if missing, start both clusters, wait until
#                                   every node is idle and both slurmrestd answer, write clusters.env
#   clusters.sh down                stop everything `up` started (pid files), cancel leftover jobs first
#   clusters.sh status              what runs
#   clusters.sh stop-ctld CLUSTER   stop one cluster's slurmctld (its slurmd, slurmrestd and jobs keep going)
#   clusters.sh start-ctld CLUSTER  start it again (it recovers its jobs from its state folder)
#
# Each cluster lives in ${SUANWANG_SLURM_DIR:-/tmp/suanwang-slurm}/<cluster>: its own slurm.conf, gres.conf,
# JWT key, state, spool and log folders, slurmctld port and slurmrestd port. Its nodes are separate slurmd
# processes on this host (`slurmd -N <node>`), each on a port of its own; `SlurmdParameters=config_overrides`
# lets them declare more CPUs, memory and accelerators than the host has. The accelerators are GRES counts
# only (no device files): `ascend` has npu:8 nodes (feature ascend-910b) and one CPU-only node, `nvidia`
# has gpu:8 nodes (feature nvidia-a100).
#
# Every daemon is started with SUANWANG_SLURM_TAG=<dir>/<cluster> in its environment, so `down` can find
# (by pid, via /proc/<pid>/environ) the slurmstepd processes those daemons left behind, and only those.
#
# Needs root (it runs the daemons as root, SlurmUser=root) and Debian's packages; nothing but apt-get and
# loopback. Ports: ${SUANWANG_SLURM_PORT_BASE:-16800} + 10.. for ascend, + 30.. for nvidia.
set -euo pipefail

DIR=${SUANWANG_SLURM_DIR:-/tmp/suanwang-slurm}
PORT_BASE=${SUANWANG_SLURM_PORT_BASE:-16800}
CLUSTERS=(ascend nvidia)
SBIN=/usr/sbin
REST_USER=${SUANWANG_SLURM_REST_USER:-nobody} # slurmrestd refuses to run as root or SlurmUser
TOKEN_USER=root                                # the user jobs are submitted (and run) as
UP_TIMEOUT=${SUANWANG_SLURM_UP_TIMEOUT:-90}

say() { printf '[slurm] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- cluster definitions --------------------------------------------------------------------------

# cluster_index NAME -> 0, 1, …: the port block of the cluster
cluster_index() {
  case "$1" in
    ascend) echo 0 ;;
    nvidia) echo 1 ;;
    *) die "unknown cluster '$1' (known: ${CLUSTERS[*]})" ;;
  esac
}

ctld_port() { echo $((PORT_BASE + 10 + 20 * $(cluster_index "$1"))); }
rest_port() { echo $((PORT_BASE + 11 + 20 * $(cluster_index "$1"))); }

# nodes NAME -> "node port" lines
nodes() {
  local first=$((PORT_BASE + 12 + 20 * $(cluster_index "$1")))
  case "$1" in
    ascend) printf '%s %s\n' asc-n1 "$first" asc-n2 $((first + 1)) asc-c1 $((first + 2)) ;;
    nvidia) printf '%s %s\n' nv-g1 "$first" nv-g2 $((first + 1)) ;;
  esac
}

node_names() { nodes "$1" | awk '{print $1}'; }

write_config() {
  local name=$1 cdir="$DIR/$1"
  mkdir -p "$cdir"/{state,spool,log,run}
  chmod 755 "$DIR" "$cdir" # slurmrestd (as $REST_USER) reads slurm.conf
  if [ ! -s "$cdir/jwt.key" ]; then
    dd if=/dev/urandom of="$cdir/jwt.key" bs=32 count=1 status=none
  fi
  chmod 600 "$cdir/jwt.key"

  local node_lines gres_lines partition
  case "$name" in
    ascend)
      node_lines=$(nodes ascend | while read -r node port; do
        if [[ $node == asc-n* ]]; then
          echo "NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port CPUs=32 RealMemory=131072 Gres=npu:8 Features=ascend-910b State=UNKNOWN"
        else
          echo "NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port CPUs=16 RealMemory=32768 State=UNKNOWN"
        fi
      done)
      gres_lines='NodeName=asc-n[1-2] Name=npu Count=8 Flags=CountOnly'
      partition='PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP'
      ;;
    nvidia)
      node_lines=$(nodes nvidia | while read -r node port; do
        echo "NodeName=$node NodeHostname=localhost NodeAddr=127.0.0.1 Port=$port CPUs=64 RealMemory=262144 Gres=gpu:8 Features=nvidia-a100 State=UNKNOWN"
      done)
      # 22.05's gres/gpu plugin drops a gpu record without File= (Flags=CountOnly works for npu, which
      # has no plugin, but not for gpu), so each GPU is a symlink to /dev/null: a character device that
      # stat() accepts. Nothing opens it; without cgroups no device is constrained.
      mkdir -p "$cdir/dev"
      local i
      for i in 0 1 2 3 4 5 6 7; do ln -sfn /dev/null "$cdir/dev/nvidia$i"; done
      gres_lines="NodeName=nv-g[1-2] Name=gpu File=$cdir/dev/nvidia[0-7]"
      partition='PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP'
      ;;
  esac
  local gres_type
  gres_type=$([ "$name" = ascend ] && echo npu || echo gpu)

  cat >"$cdir/slurm.conf.new" <<EOF
# Written by scripts/slurm/clusters.sh; rewritten by every \`up\`.
ClusterName=$name
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(ctld_port "$name")
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$cdir/jwt.key
StateSaveLocation=$cdir/state
SlurmdSpoolDir=$cdir/spool/%n
SlurmctldPidFile=$cdir/run/slurmctld.pid
SlurmdPidFile=$cdir/run/slurmd-%n.pid
SlurmctldLogFile=$cdir/log/slurmctld.log
SlurmdLogFile=$cdir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in a sandbox: processes are tracked by parentage, tasks are not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
# Schedule a batch job when it is submitted (the default holds it up to 3 s) and backfill often, so
# a job behind a blocked one (a gang job waiting for whole nodes) does not wait 30 s for a pass.
SchedulerParameters=batch_sched_delay=0,bf_interval=2
GresTypes=$gres_type
SlurmdParameters=config_overrides
SwitchType=switch/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
PropagateResourceLimits=NONE
MailProg=/bin/true
ReturnToService=2
# Short timeouts: a downed controller is noticed in seconds, a killed job is gone in seconds.
SlurmdTimeout=30
SlurmctldTimeout=10
MessageTimeout=3
KillWait=2
InactiveLimit=0
MinJobAge=300
JobRequeue=0
$node_lines
$partition
EOF
  mv -f "$cdir/slurm.conf.new" "$cdir/slurm.conf"
  chmod 644 "$cdir/slurm.conf"
  printf '# Written by scripts/slurm/clusters.sh\nAutoDetect=off\n%s\n' "$gres_lines" >"$cdir/gres.conf"
  chmod 644 "$cdir/gres.conf"
}

# ---- processes -----------------------------------------------------------------------------------

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*[ZX]' "/proc/$1/status" 2>/dev/null; }
pid_from() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }
running() { pid_alive "$(pid_from "$1")"; }

# run_daemon CLUSTER PIDFILE CMD… : starts a daemon that daemonizes itself and writes PIDFILE
run_daemon() {
  local name=$1 pidfile=$2
  shift 2
  rm -f "$pidfile"
  SUANWANG_SLURM_TAG="$DIR/$name" SLURM_CONF="$DIR/$name/slurm.conf" "$@"
  for _ in $(seq 1 100); do
    running "$pidfile" && return 0
    sleep 0.1
  done
  return 1
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  say "starting munged"
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 700 /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 50); do
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
      # Remembered so that `down` stops the munged it started, and only that one.
      pid_from /run/munge/munged.pid >"$DIR/munged.pid"
      return 0
    fi
    sleep 0.1
  done
  die "munged did not start (see /var/log/munge/munged.log)"
}

install_slurm() {
  local missing=()
  for bin in slurmctld slurmd slurmrestd scontrol munged; do
    command -v "$bin" >/dev/null 2>&1 || [ -x "$SBIN/$bin" ] || missing+=("$bin")
  done
  # auth/jwt is its own package in Debian, pulled in only as a recommendation: ask for it by name.
  compgen -G '/usr/lib/*/slurm-wlm/auth_jwt.so' >/dev/null || missing+=(auth_jwt.so)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "Slurm is missing (${missing[*]}) and installing it needs root"
  say "installing slurm-wlm slurmrestd munge (missing: ${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm slurmrestd munge slurm-wlm-jwt-plugin curl >/dev/null
}

start_ctld() {
  local name=$1 cdir="$DIR/$1"
  if running "$cdir/run/slurmctld.pid"; then return 0; fi
  say "$name: starting slurmctld on 127.0.0.1:$(ctld_port "$name")"
  run_daemon "$name" "$cdir/run/slurmctld.pid" "$SBIN/slurmctld" -f "$cdir/slurm.conf" ||
    die "$name: slurmctld did not start; see $cdir/log/slurmctld.log: $(tail -n 5 "$cdir/log/slurmctld.log" 2>/dev/null)"
}

start_cluster() {
  local name=$1 cdir="$DIR/$1"
  write_config "$name"
  start_ctld "$name"
  local node port
  while read -r node port; do
    if running "$cdir/run/slurmd-$node.pid"; then continue; fi
    say "$name: starting slurmd $node on 127.0.0.1:$port"
    mkdir -p "$cdir/spool/$node"
    run_daemon "$name" "$cdir/run/slurmd-$node.pid" "$SBIN/slurmd" -f "$cdir/slurm.conf" -N "$node" ||
      die "$name: slurmd $node did not start; see $cdir/log/slurmd-$node.log: $(tail -n 5 "$cdir/log/slurmd-$node.log" 2>/dev/null)"
  done < <(nodes "$name")
  if ! running "$cdir/run/slurmrestd.pid"; then
    say "$name: starting slurmrestd on 127.0.0.1:$(rest_port "$name") (as $REST_USER)"
    # slurmrestd stays in the foreground: it runs in a session of its own and its pid is recorded here.
    # SLURM_JWT=daemon: it authenticates every request by the client's JWT, never by munge.
    SUANWANG_SLURM_TAG="$cdir" SLURM_CONF="$cdir/slurm.conf" SLURM_JWT=daemon \
      setsid "$SBIN/slurmrestd" -f "$cdir/slurm.conf" -a rest_auth/jwt -s v0.0.36,v0.0.37,v0.0.38 -u "$REST_USER" \
      "127.0.0.1:$(rest_port "$name")" </dev/null >>"$cdir/log/slurmrestd.log" 2>&1 &
    echo $! >"$cdir/run/slurmrestd.pid"
  fi
}

# wait_ready NAME: every node idle and slurmrestd answering with a valid token
wait_ready() {
  local name=$1 cdir="$DIR/$1" deadline=$((SECONDS + UP_TIMEOUT)) states token=""
  local want
  want=$(node_names "$name" | wc -l)
  while :; do
    states=$(SLURM_CONF="$cdir/slurm.conf" sinfo -h -N -o '%N %t' 2>/dev/null | sort -u || true)
    if [ "$(grep -c ' idle$' <<<"$states" || true)" -eq "$want" ]; then break; fi
    # A node that registered after a restart may still be marked down; ReturnToService=2 usually clears it.
    if grep -qE ' (down|drain|drng|fail|inval)\*?$' <<<"$states"; then
      SLURM_CONF="$cdir/slurm.conf" scontrol update nodename="$(node_names "$name" | paste -sd,)" state=resume >/dev/null 2>&1 || true
    fi
    [ $SECONDS -lt $deadline ] || die "$name: nodes not idle after ${UP_TIMEOUT}s: $(tr '\n' ' ' <<<"$states")"
    sleep 0.5
  done
  token=$(SLURM_CONF="$cdir/slurm.conf" scontrol token username="$TOKEN_USER" lifespan=86400 | sed -n 's/^SLURM_JWT=//p')
  [ -n "$token" ] || die "$name: scontrol token gave no token"
  local url="http://127.0.0.1:$(rest_port "$name")"
  while :; do
    if curl -fsS -o /dev/null -H "X-SLURM-USER-NAME: $TOKEN_USER" -H "X-SLURM-USER-TOKEN: $token" "$url/slurm/v0.0.38/ping" 2>/dev/null; then break; fi
    running "$cdir/run/slurmrestd.pid" || die "$name: slurmrestd exited; see $cdir/log/slurmrestd.log: $(tail -n 5 "$cdir/log/slurmrestd.log")"
    [ $SECONDS -lt $deadline ] || die "$name: slurmrestd at $url does not answer after ${UP_TIMEOUT}s"
    sleep 0.3
  done
  local upper
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
  {
    printf 'SUANWANG_SLURM_%s_URL=%s\n' "$upper" "$url"
    printf 'SUANWANG_SLURM_%s_TOKEN=%s\n' "$upper" "$token"
    printf 'SUANWANG_SLURM_%s_USER=%s\n' "$upper" "$TOKEN_USER"
    printf 'SUANWANG_SLURM_%s_CONF=%s\n' "$upper" "$cdir/slurm.conf"
  } >>"$DIR/clusters.env.new"
}

# stop_pid PIDFILE: TERM, then KILL after 10 s
stop_pid() {
  local pidfile=$1 pid
  pid=$(pid_from "$pidfile")
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

stop_ctld() {
  local name=$1
  say "$name: stopping slurmctld"
  stop_pid "$DIR/$name/run/slurmctld.pid"
}

# tagged_pids TAG: processes whose environment carries SUANWANG_SLURM_TAG=TAG (daemons and their slurmstepd)
tagged_pids() {
  local tag=$1 env pid
  for env in /proc/[0-9]*/environ; do
    pid=${env#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if { tr '\0' '\n' <"$env"; } 2>/dev/null | grep -qxF "SUANWANG_SLURM_TAG=$tag" && pid_alive "$pid"; then echo "$pid"; fi
  done
}

stop_cluster() {
  local name=$1 cdir="$DIR/$1"
  [ -d "$cdir" ] || return 0
  if running "$cdir/run/slurmctld.pid"; then
    # Jobs outlive slurmd (slurmstepd keeps them): cancel them while the controller can still do it.
    local jobs
    jobs=$(SLURM_CONF="$cdir/slurm.conf" timeout 10 squeue -h -o %i 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      say "$name: cancelling $(wc -w <<<"$jobs") leftover job(s)"
      # shellcheck disable=SC2086
      SLURM_CONF="$cdir/slurm.conf" timeout 10 scancel $jobs 2>/dev/null || true
      for _ in $(seq 1 50); do
        [ -z "$(SLURM_CONF="$cdir/slurm.conf" timeout 5 squeue -h -o %i 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  say "$name: stopping slurmrestd, slurmd, slurmctld"
  stop_pid "$cdir/run/slurmrestd.pid"
  local node
  for node in $(node_names "$name"); do stop_pid "$cdir/run/slurmd-$node.pid"; done
  stop_pid "$cdir/run/slurmctld.pid"
  # Whatever the daemons left behind (slurmstepd of jobs the controller could not cancel).
  local pid
  for pid in $(tagged_pids "$cdir"); do kill -KILL "$pid" 2>/dev/null || true; done
  # The next `up` starts from a clean slate (no recovered jobs, no drained nodes); logs stay for a post-mortem.
  rm -rf "$cdir/state" "$cdir/spool"
}

status_cluster() {
  local name=$1 cdir="$DIR/$1" file
  for file in "$cdir"/run/*.pid; do
    [ -e "$file" ] || continue
    local what pid
    what=$(basename "$file" .pid)
    pid=$(pid_from "$file")
    if pid_alive "$pid"; then printf '%-8s %-16s pid %s\n' "$name" "$what" "$pid"; else printf '%-8s %-16s not running (stale pid file)\n' "$name" "$what"; fi
  done
  if running "$cdir/run/slurmctld.pid"; then
    SLURM_CONF="$cdir/slurm.conf" timeout 10 sinfo -N -o '%N %P %t %c %m %G %f' 2>/dev/null | sed "s/^/$name   /" || true
    SLURM_CONF="$cdir/slurm.conf" timeout 10 squeue -o '%i %j %T %M %N' 2>/dev/null | sed "s/^/$name   /" || true
  fi
}

# ---- commands ------------------------------------------------------------------------------------

cmd_up() {
  [ "$(id -u)" -eq 0 ] || die "run as root: the daemons run as root (SlurmUser=root)"
  install_slurm
  mkdir -p "$DIR"
  start_munge
  local name
  for name in "${CLUSTERS[@]}"; do start_cluster "$name"; done
  rm -f "$DIR/clusters.env.new"
  printf '# Written by scripts/slurm/clusters.sh up\nSUANWANG_SLURM_DIR=%s\n' "$DIR" >"$DIR/clusters.env.new"
  for name in "${CLUSTERS[@]}"; do wait_ready "$name"; done
  mv -f "$DIR/clusters.env.new" "$DIR/clusters.env"
  chmod 600 "$DIR/clusters.env"
  say "up: ${CLUSTERS[*]}; environment in $DIR/clusters.env"
}

cmd_down() {
  local name
  for name in "${CLUSTERS[@]}"; do stop_cluster "$name"; done
  if [ -s "$DIR/munged.pid" ]; then
    say "stopping the munged this script started"
    stop_pid "$DIR/munged.pid"
  fi
  rm -f "$DIR/clusters.env"
  say "down"
}

cmd_status() {
  local name
  for name in "${CLUSTERS[@]}"; do status_cluster "$name"; done
  if [ -s "$DIR/munged.pid" ] && running "$DIR/munged.pid"; then echo "munged (started here) pid $(pid_from "$DIR/munged.pid")"; fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop-ctld)
    [ -n "${2:-}" ] || die "usage: clusters.sh stop-ctld CLUSTER"
    cluster_index "$2" >/dev/null
    stop_ctld "$2"
    ;;
  start-ctld)
    [ -n "${2:-}" ] || die "usage: clusters.sh start-ctld CLUSTER"
    cluster_index "$2" >/dev/null
    start_ctld "$2"
    ;;
  *)
    echo "usage: $0 up|down|status|stop-ctld CLUSTER|start-ctld CLUSTER" >&2
    exit 2
    ;;
esac
