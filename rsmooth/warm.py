"""Start torch scripts in a pre-forked process that has already imported torch.

Off by default (config ``warm_worker: false``). ``import torch`` alone costs about 2 s on the
2-core machine: 27 to 35% of a default certification job. A script that calls :func:`delegate`
first thing (``cli.run(main, warm=True)`` does) hands its whole run to a
*warm worker*, a background process that imported torch, numpy, pandas and ``rsmooth`` once and
forks a fresh child per job. The child takes over the caller's arguments, working directory,
environment, umask and standard input/output/error (so its output lands in the job's log), runs
the script as ``__main__`` and sends the exit status back; the caller exits with it. Snakemake
turns this on for training and certification jobs (config ``warm_worker``, exported as
``RSMOOTH_WARM=1``); a script started by hand runs directly unless ``RSMOOTH_WARM=1`` is set.

Guarantees:

* Same outputs as a direct run (tests compare the bytes). If no worker can be reached or
  started within ``RSMOOTH_WARM_START_S`` seconds (default 120), the script runs directly and
  says so on standard error.
* No job outlives its caller. The child watches the connection; when the caller dies (for
  example Snakemake kills the job), the child kills itself at once.
* No stale code. A worker serves only callers whose Python, ``rsmooth`` sources, installed
  torch/numpy/pandas, import-relevant environment (``LD_*``, ``OMP_*``, ``CUDA_*``, ...), CPU
  affinity and SLURM job id match the ones it was started with; any other caller gets a worker
  of its own. One worker per SLURM job keeps each job's processes in its own allocation.
* No borrowed privileges. A worker serves only callers with its own process identity
  (:func:`identity`: user and groups, capabilities, no-new-privileges and seccomp, nice value,
  resource limits, cgroup, scheduling autogroup, allowed CPUs and memory nodes). The caller
  starts its worker itself (in its own process group, not a new session), so the worker has
  the caller's identity; the worker checks each caller's identity from /proc through the
  socket's peer credentials and refuses a mismatch (the job then runs directly).
* The same exit. A job killed by a signal kills its caller with the same signal, so the
  caller's parent sees what it would see of a plain process.
* Nothing lingers. A worker exits after ``RSMOOTH_WARM_IDLE_S`` seconds (default 60) without a
  new job. Workers live in ``$TMPDIR/rsmooth-warm-<uid>/`` (mode 0700; /tmp if $TMPDIR is too
  deep for a socket path): a socket each, and a
  log of start-up errors that a clean exit removes.

The worker never runs torch code itself, so no thread pool and no CUDA context exist when it
forks; each child initialises what it uses, as a fresh process would. The accounting of a
job's CPU time and memory belongs to the worker's process tree, not the caller's: Snakemake's
benchmark files keep a job's wall time but not its memory.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRELOAD = ("numpy", "pandas", "scipy.special", "tqdm", "torch", "torch.nn.functional",
           "rsmooth.cli", "rsmooth.core", "rsmooth.data", "rsmooth.io", "rsmooth.models",
           "rsmooth.analysis", "rsmooth.training", "rsmooth.seeding")
ENV_PREFIXES = ("PYTHON", "LD_", "OMP_", "MKL_", "OPENBLAS_", "KMP_", "GOMP_", "TORCH", "PYTORCH_",
                "CUDA_", "NVIDIA_", "MALLOC_", "VIRTUAL_ENV", "CONDA_PREFIX", "SLURM_JOB_ID")
_HEADER = struct.Struct("!I")
_SOCKET_PATH_MAX = 107  # bytes in a Unix socket path on Linux
_KEY_LEN = 24  # hex digits of a worker key; its socket is "<key>.sock"
_IN_CHILD = False  # True in a worker's child: delegate() must not delegate again


def fingerprint() -> str:
    """What a worker's imported state depends on; a worker serves only callers that match."""
    import importlib.util

    h = hashlib.sha256()
    h.update(f"{sys.executable}\0{sys.version}\0{REPO}\0".encode())
    for f in sorted((REPO / "rsmooth").glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for pkg in ("torch", "numpy", "pandas"):
        spec = importlib.util.find_spec(pkg)
        if spec and spec.origin:
            st = os.stat(spec.origin)
            h.update(f"{pkg}\0{spec.origin}\0{st.st_mtime_ns}\0{st.st_size}\0".encode())
    for k in sorted(os.environ):
        if k.startswith(ENV_PREFIXES):
            h.update(f"{k}={os.environ[k]}\0".encode())
    h.update(repr(sorted(os.sched_getaffinity(0))).encode())
    h.update(identity().encode())
    return h.hexdigest()[:_KEY_LEN]


_STATUS_KEYS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
                "NoNewPrivs", "Seccomp", "Cpus_allowed_list", "Mems_allowed_list")


def identity(pid: int | str = "self") -> str:
    """What a process passes on to a job it starts and a worker must share with each caller it
    serves, read from /proc: user and groups, capabilities, no-new-privileges, seccomp, allowed
    CPUs and memory nodes, nice value, resource limits, cgroup and scheduling autogroup."""
    proc = Path("/proc") / str(pid)

    def read(name: str) -> str:
        try:
            return (proc / name).read_text()
        except OSError:
            return ""

    status = [line for line in read("status").splitlines() if line.split(":")[0] in _STATUS_KEYS]
    stat = read("stat")
    nice = stat.rsplit(")", 1)[-1].split()[16] if ")" in stat else ""  # field 19 of proc(5)
    autogroup = read("autogroup").split(" nice ")[0]
    return "\n".join([*status, f"nice:\t{nice}", read("limits"), read("cgroup"), autogroup])


def socket_dir() -> Path:
    """This user's private folder of worker sockets and logs: under $TMPDIR, or under /tmp
    where $TMPDIR is too deep for a socket path (at most 107 bytes on Linux)."""
    name = f"rsmooth-warm-{os.getuid()}"
    d = Path(tempfile.gettempdir()) / name
    if len(str(d)) + len(f"/{'k' * _KEY_LEN}.sock") > _SOCKET_PATH_MAX:
        d = Path("/tmp") / name
    d.mkdir(mode=0o700, exist_ok=True)
    st = d.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise OSError(f"{d} is not a private folder of this user")
    return d


# ------------------------------------------------------------------ messages: length + JSON

def _send_msg(sock: socket.socket, obj, fds=()) -> None:
    data = json.dumps(obj).encode()
    msg = _HEADER.pack(len(data)) + data
    if fds:
        socket.send_fds(sock, [msg], list(fds))
    else:
        sock.sendall(msg)


def _recv_exact(sock: socket.socket, n: int, fds: list | None = None) -> bytes:
    buf = b""
    while len(buf) < n:
        if fds is not None and not buf:  # descriptors ride on the first bytes
            chunk, got, _, _ = socket.recv_fds(sock, n, 8)
            fds.extend(got)
        else:
            chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def _recv_msg(sock: socket.socket, fds: list | None = None):
    (n,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, fds))
    return json.loads(_recv_exact(sock, n))


# ------------------------------------------------------------------------------ caller side

def _connect(path: Path) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return s
    except OSError:
        s.close()
        return None


def _start_worker(path: Path, key: str) -> subprocess.Popen:
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r}); from rsmooth import warm; "
            f"warm.serve({str(path)!r}, {key!r})")
    with open(path.with_suffix(".log"), "ab") as log:
        # Its own process group (a signal to the job's group spares it), but the caller's
        # session: a new session would put its jobs in another scheduling autogroup.
        return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, cwd="/", process_group=0)


def _worker_connection() -> socket.socket | None:
    """A connection to a matching worker, starting one if needed; None if none comes up."""
    key = fingerprint()
    path = socket_dir() / f"{key}.sock"
    s = _connect(path)
    if s is not None:
        return s
    proc = _start_worker(path, key)
    deadline = time.monotonic() + float(os.environ.get("RSMOOTH_WARM_START_S", "120"))
    while time.monotonic() < deadline:
        time.sleep(0.05)
        s = _connect(path)
        if s is not None:
            return s
        if proc.poll() is not None:  # it gave up (the sources changed under it) or crashed
            return _connect(path)
    return None


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def delegate() -> None:
    """Hand this script's run to a warm worker and exit with its status. Returns (and the
    script runs here, as usual) when ``RSMOOTH_WARM`` is not ``1``, inside a worker's child, or
    when no worker comes up. Call it before importing torch."""
    if _IN_CHILD or os.environ.get("RSMOOTH_WARM") != "1":
        return
    try:
        s, why = _worker_connection(), "did not start"
    except OSError as e:
        s, why = None, f"unavailable ({e})"
    if s is None:
        print(f"warm worker {why}; running directly", file=sys.stderr)
        return
    with s:
        umask = os.umask(0)
        os.umask(umask)
        sys.stdout.flush()
        sys.stderr.flush()
        fds = [fd for fd in (0, 1, 2) if _is_open(fd)]
        _send_msg(s, {"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ),
                      "umask": umask, "fds": fds}, fds=fds)
        try:
            reply = _recv_msg(s)
        except (ConnectionError, ValueError):
            print("error: the job's process in the warm worker died without an exit status",
                  file=sys.stderr)
            sys.exit(1)
    if "refused" in reply:
        print(f"warm worker refused the job ({reply['refused']}); running directly", file=sys.stderr)
        return
    if "maxrss_kb" in reply:  # Snakemake's benchmark file measures this caller, not the job
        print(f"warm worker: the job's peak memory (max RSS) was {reply['maxrss_kb'] / 1024:.0f} MiB",
              file=sys.stderr)
    if "signal" in reply:  # die as the job died, so the caller's parent sees the same status
        import signal

        sig = int(reply["signal"])
        if sig not in (signal.SIGKILL, signal.SIGSTOP):  # these two take no handler
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        sys.exit(128 + sig)  # a signal that does not kill by default (none of the usual ones)
    sys.exit(int(reply["status"]))


# ------------------------------------------------------------------------------ worker side

def _run_script(argv: list[str]) -> int:
    """Run a script as ``python SCRIPT ARGS`` would, in this process; return its exit status."""
    import runpy

    sys.argv = list(argv)
    sys.path.insert(0, str(Path(argv[0]).resolve().parent))
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    return 0


def _child(conn: socket.socket, listener: socket.socket) -> None:
    """In the forked child: check the caller, fork the job (the caller's twin), wait for it and
    report how it ended: its exit status, or the signal that killed it."""
    import signal
    import threading

    listener.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    reply: dict = {"status": 1}
    try:
        fds: list[int] = []
        req = _recv_msg(conn, fds)
        peer_pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
        if identity(peer_pid) != identity():
            reply = {"refused": "the caller's user, capabilities, limits, nice value or cgroup "
                                "differ from the worker's"}
            return
        pid = os.fork()
        if pid == 0:
            conn.close()  # only this process reports to the caller
            _job(req, fds)
        for fd in fds:
            os.close(fd)

        def watch():  # the caller is gone (killed, cancelled): so is this job
            try:
                conn.recv(1)
            finally:
                os.kill(pid, signal.SIGKILL)

        threading.Thread(target=watch, daemon=True).start()
        _, wstatus, usage = os.wait4(pid, 0)
        reply = ({"signal": os.WTERMSIG(wstatus)} if os.WIFSIGNALED(wstatus)
                 else {"status": os.WEXITSTATUS(wstatus)})
        reply["maxrss_kb"] = usage.ru_maxrss  # the job's peak resident memory (Linux: KiB)
    finally:
        try:
            _send_msg(conn, reply)
        finally:
            os._exit(0)


def _job(req: dict, fds: list[int]) -> None:
    """In the job's process: become the caller's job, run the script, exit with its status."""
    import traceback

    global _IN_CHILD
    _IN_CHILD = True
    status = 1
    try:
        for target in (0, 1, 2):  # the caller's standard streams (closed where its are)
            if target not in req["fds"]:
                os.close(target)
        for target, fd in zip(req["fds"], fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(req["cwd"])
        os.umask(req["umask"])
        os.environ.clear()
        os.environ.update(req["env"])
        status = _run_script(req["argv"])
    except BaseException:  # noqa: BLE001 - report it as the interpreter would
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def _fork_job(conn: socket.socket, listener: socket.socket) -> None:
    conn.setblocking(True)
    if os.fork() == 0:
        _child(conn, listener)
    conn.close()


def serve(path: str | Path, key: str) -> None:
    """Import the heavy modules once, then fork a child per connection until idle."""
    import importlib
    import signal

    path = Path(path)
    for m in PRELOAD:
        importlib.import_module(m)
    if fingerprint() != key:  # the sources changed while we were importing them
        print(f"warm worker {os.getpid()}: sources changed during start-up; not serving",
              file=sys.stderr, flush=True)
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    idle = float(os.environ.get("RSMOOTH_WARM_IDLE_S", "60"))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp))
    listener.listen(64)
    os.replace(tmp, path)  # atomic; replaces a stale socket, and a racing twin just idles out
    inode = os.stat(path).st_ino
    listener.settimeout(idle)
    print(f"warm worker {os.getpid()} serving {path}", file=sys.stderr, flush=True)
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            break
        _fork_job(conn, listener)
    # Idle: take no new callers (remove the socket file unless a twin took it over), then
    # serve those that connected before it went away.
    try:
        if os.stat(path).st_ino == inode:
            os.unlink(path)
    except FileNotFoundError:
        pass
    listener.setblocking(False)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            break
        _fork_job(conn, listener)
    listener.close()
    if not path.exists():  # a clean exit of the last worker of this key leaves no trace
        path.with_suffix(".log").unlink(missing_ok=True)
