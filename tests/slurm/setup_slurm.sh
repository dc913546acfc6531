#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the Slurm runner tests: Debian's slurm-wlm and
# munge, started directly (no systemd), with a container-friendly slurm.conf (no cgroups, no
# accounting). The node declares two GPUs backed by stand-in device files (no real GPU), so that
# --gres=gpu:N requests are scheduled, and CUDA_VISIBLE_DEVICES set, as on a real cluster. Idempotent: when the node already answers, it returns at once.
# Needs root.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
NODE="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))

node_ready() {
    command -v sinfo >/dev/null 2>&1 && [ -f "$CONF" ] \
        && sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

if node_ready; then
    echo "slurm: node $NODE ready"
    exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "slurm: installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends slurm-wlm munge >/dev/null
fi

# munge: a key shared by the controller and the node (here the same machine).
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --force 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 2>/dev/null
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > "$CONF.new" <<EOF
# Single-node test cluster written by tests/slurm/setup_slurm.sh
ClusterName=evalkit-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
mv "$CONF.new" "$CONF"
FAKE_GPUS=/var/spool/slurmd/fake-gpu
mkdir -p "$FAKE_GPUS"
for i in 0 1; do
    # Slurm wants character devices; a copy of /dev/null is one (a plain file where mknod is refused).
    [ -e "$FAKE_GPUS/gpu$i" ] || mknod "$FAKE_GPUS/gpu$i" c 1 3 2>/dev/null || touch "$FAKE_GPUS/gpu$i"
done
echo "Name=gpu File=$FAKE_GPUS/gpu[0-1]" > /etc/slurm/gres.conf

# A daemon left from an earlier configuration is restarted with this one.
for daemon in slurmctld slurmd; do
    pidfile=/run/$daemon.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")" && sleep 1
    fi
done
/usr/sbin/slurmctld
/usr/sbin/slurmd
scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true

for _ in $(seq 120); do
    if node_ready; then
        echo "slurm: node $NODE ready ($CPUS CPUs, partition debug)"
        exit 0
    fi
    sleep 0.5
done
echo "slurm: the node did not become idle; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1
