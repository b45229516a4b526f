#!/usr/bin/env bash
# A real single-node SLURM on this machine, for tests/test_cluster.py and for trying the
# profiles/slurm profile by hand. Debian 12's packages (Slurm 22.05), no systemd, no cgroups,
# no accounting daemon; everything it writes lives under STATE_DIR.
#
#   tests/cluster/start_slurm.sh --install     install the Debian packages (root; idempotent)
#   tests/cluster/start_slurm.sh STATE_DIR     start munged, slurmctld and slurmd; prints
#                                              export SLURM_CONF=STATE_DIR/slurm.conf
#   tests/cluster/stop_slurm.sh STATE_DIR      stop them again, by the pids recorded here
#
# The node advertises one GPU (Gres=gpu:1 backed by /dev/null) so that jobs asking for a GPU
# through the profile are scheduled exactly as on a real GPU node; the job itself sees no CUDA
# device and runs on the CPU (device: auto).
set -euo pipefail

PACKAGES="slurmctld slurmd slurm-client munge"

need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "start_slurm.sh: $1 needs root (run it with sudo)" >&2
        exit 1
    fi
}

if [ "${1:-}" = "--install" ]; then
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        exit 0
    fi
    need_root "installing $PACKAGES"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $PACKAGES >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q $PACKAGES >/dev/null; }
    exit 0
fi

if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: $0 --install | STATE_DIR" >&2
    exit 2
fi
for cmd in slurmctld slurmd sbatch sinfo munged; do
    command -v "$cmd" >/dev/null || { echo "start_slurm.sh: $cmd not found (run $0 --install)" >&2; exit 1; }
done
need_root "starting slurmd"

STATE=$(mkdir -p "$1" && cd "$1" && pwd)
NODE=rsmooth-node
HOST=$(hostname -s)
# The node claims at least 8 CPUs (config_overrides: slurmd believes the config, not the
# hardware), so the profile's 8-thread training jobs schedule on a small test machine; the
# scripts cap their threads at the cores really there.
CPUS=$(( $(nproc) > 8 ? $(nproc) : 8 ))
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
CTLD_PORT=${RSMOOTH_SLURMCTLD_PORT:-16817}
SLURMD_PORT=${RSMOOTH_SLURMD_PORT:-16818}

mkdir -p "$STATE/munge" "$STATE/ctld" "$STATE/spool" "$STATE/logs"
chmod 755 "$STATE"
chown munge:munge "$STATE/munge"
chmod 755 "$STATE/munge"
if ! runuser -u munge -- test -w "$STATE/munge"; then
    echo "start_slurm.sh: the munge user cannot reach $STATE/munge (a parent folder is private?);" \
        "use a STATE_DIR under /tmp" >&2
    exit 1
fi

cat > "$STATE/slurm.conf" <<CONF
ClusterName=rsmooth
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/logs/slurmctld.log
SlurmdLogFile=$STATE/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
GresTypes=gpu
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
cat > "$STATE/gres.conf" <<CONF
NodeName=$NODE Name=gpu File=/dev/null
CONF

runuser -u munge -- munged --socket="$STATE/munge/munge.socket" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" \
    --seed-file="$STATE/munge/munged.seed" --key-file=/etc/munge/munge.key
cp "$STATE/munge/munged.pid" "$STATE/munged.pid"

# Job steps inside a SLURM job (the snakemake jobstep plugin's srun) drop SLURM_CONF and read
# the default /etc/slurm/slurm.conf: point it at this cluster, unless another config is there.
for f in slurm.conf gres.conf; do
    if [ -e "/etc/slurm/$f" ] && ! readlink "/etc/slurm/$f" | grep -q '/rsmooth-slurm-state/'; then
        echo "start_slurm.sh: /etc/slurm/$f exists and is not ours; refusing to replace it" >&2
        exit 1
    fi
done
mkdir -p /etc/slurm "$STATE/rsmooth-slurm-state"
for f in slurm.conf gres.conf; do
    ln -sfn "$STATE/$f" "$STATE/rsmooth-slurm-state/$f"
    ln -sfn "$STATE/rsmooth-slurm-state/$f" "/etc/slurm/$f"
done

export SLURM_CONF="$STATE/slurm.conf"
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$NODE"

for _ in $(seq 60); do
    if [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ]; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 1
done
echo "start_slurm.sh: the node did not become idle in 60 s; logs in $STATE/logs" >&2
sinfo -N >&2 || true
exit 1
