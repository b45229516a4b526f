#!/usr/bin/env bash
# Stop the daemons tests/cluster/start_slurm.sh started under STATE_DIR, by their recorded pids.
set -uo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 STATE_DIR" >&2
    exit 2
fi
for name in slurmd slurmctld munged; do
    pidfile="$1/$name.pid"
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
done
for f in slurm.conf gres.conf; do
    case "$(readlink "/etc/slurm/$f" 2>/dev/null)" in
        "$(cd "$1" 2>/dev/null && pwd)/rsmooth-slurm-state/$f") rm -f "/etc/slurm/$f" ;;
    esac
done
exit 0
