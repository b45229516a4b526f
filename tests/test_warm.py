"""The warm worker (rsmooth/warm.py): a job started through it behaves like a direct run."""
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO
from fakedata import fake_mnist
from pipeline import run_script
from rsmooth import warm

PROBE = f"""\
import os, sys, time
sys.path.insert(0, {str(REPO)!r})
from rsmooth import warm

if __name__ == "__main__":
    if sys.argv[1] == "renice-after-key":  # compute the key as one process, connect as another
        key = warm.fingerprint()
        os.nice(3)
        warm.fingerprint = lambda: key
    warm.delegate()
    if sys.argv[1] == "identity":
        import resource
        print("nice:", os.nice(0), "nofile:", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        try:
            open(sys.argv[2], "w").write("x")
            print("write: ok")
        except OSError as e:
            print("write:", e.strerror)
        sys.exit(0)
    if sys.argv[1] == "alloc":
        block = bytearray(400 * 2 ** 20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        print("allocated")
        sys.exit(0)
    if sys.argv[1] == "whoami":
        print("in worker:", warm._IN_CHILD, "uid:", os.getuid(), "gid:", os.getgid(),
              "groups:", sorted(os.getgroups()))
        print("cgroup:", " ".join(sorted(open("/proc/self/cgroup").read().split())))
        sys.exit(0)
    if sys.argv[1] == "signal":
        os.kill(os.getpid(), int(sys.argv[2]))
    print("in worker:", warm._IN_CHILD)
    print("cwd:", os.getcwd())
    print("argv:", sys.argv[1:])
    print("env:", os.environ.get("PROBE_VALUE"))
    print("to stderr", file=sys.stderr)
    if sys.argv[1] == "sleep":
        open(sys.argv[2], "w").write(str(os.getpid()))
        time.sleep(120)
    if sys.argv[1] == "fail":
        raise RuntimeError("probe failed on purpose")
    if sys.argv[1] == "renice-after-key":
        sys.exit(0)
    sys.exit(int(sys.argv[1]))
"""


@pytest.fixture
def private_tmp():
    """A short private $TMPDIR, so the test's workers are its own; they idle out in 3 s."""
    d = Path(tempfile.mkdtemp(prefix="rw", dir="/tmp"))
    env = dict(os.environ, TMPDIR=str(d), RSMOOTH_WARM="1", RSMOOTH_WARM_IDLE_S="3")
    yield d, env
    for sock in d.glob("rsmooth-warm-*/*.sock"):  # in case a worker is still serving
        subprocess.run(["pkill", "-f", str(sock)], check=False)
    shutil.rmtree(d, ignore_errors=True)


def run_probe(tmp_path, env, *args, prefix=()):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out, "w") as o, open(err, "w") as e:
        rc = subprocess.run([*prefix, sys.executable, str(probe), *args], stdout=o, stderr=e,
                            env=env, cwd=tmp_path, timeout=300).returncode
    return rc, out.read_text(), err.read_text()


def test_the_job_runs_in_the_worker_with_the_callers_cwd_argv_env_and_streams(tmp_path, private_tmp):
    tmpdir, env = private_tmp
    env["PROBE_VALUE"] = "forty-two"
    for _ in range(2):  # the first call starts the worker, the second finds it
        rc, out, err = run_probe(tmp_path, env, "3", "x y")
        assert rc == 3
        assert out.splitlines() == ["in worker: True", f"cwd: {tmp_path}", "argv: ['3', 'x y']",
                                    "env: forty-two"]
        assert err.splitlines()[0] == "to stderr"
        assert re.fullmatch(r"warm worker: the job's peak memory \(max RSS\) was \d+ MiB", err.splitlines()[1])
    assert len(list(tmpdir.glob("rsmooth-warm-*/*.sock"))) == 1


def test_the_log_gets_the_jobs_peak_memory_which_the_benchmark_file_cannot_see(tmp_path, private_tmp):
    _, env = private_tmp
    rc, out, err = run_probe(tmp_path, env, "alloc")
    assert rc == 0 and out == "allocated\n"
    mib = int(re.search(r"peak memory \(max RSS\) was (\d+) MiB", err).group(1))
    assert 400 <= mib < 4000  # the job's 400 MiB, not its caller's few


def test_without_the_switch_the_script_runs_directly(tmp_path, private_tmp):
    _, env = private_tmp
    env["RSMOOTH_WARM"] = "0"
    rc, out, _ = run_probe(tmp_path, env, "0")
    assert rc == 0 and "in worker: False" in out


def test_an_exception_in_the_job_gives_a_traceback_and_status_1(tmp_path, private_tmp):
    _, env = private_tmp
    rc, out, err = run_probe(tmp_path, env, "fail")
    assert rc == 1
    assert "in worker: True" in out
    assert "RuntimeError: probe failed on purpose" in err


def test_killing_the_caller_kills_the_job(tmp_path, private_tmp):
    _, env = private_tmp
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    pidfile = tmp_path / "pid"
    p = subprocess.Popen([sys.executable, str(probe), "sleep", str(pidfile)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (pidfile.exists() and pidfile.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    job = int(pidfile.read_text())
    assert job != p.pid  # the job runs in the worker's child, not in the caller
    p.kill()
    p.wait()
    deadline = time.time() + 30
    while Path(f"/proc/{job}").exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{job}").exists() or "Z" in Path(f"/proc/{job}/stat").read_text().split()[2]


def test_no_worker_means_a_direct_run_with_a_note(tmp_path, private_tmp):
    _, env = private_tmp
    env["RSMOOTH_WARM_START_S"] = "0"
    rc, out, err = run_probe(tmp_path, env, "0")
    assert rc == 0 and "in worker: False" in out
    assert "warm worker did not start; running directly" in err


def test_the_worker_exits_when_idle_and_leaves_no_files(tmp_path, private_tmp):
    tmpdir, env = private_tmp
    env["RSMOOTH_WARM_IDLE_S"] = "1"
    assert run_probe(tmp_path, env, "0")[0] == 0
    folder = next(tmpdir.glob("rsmooth-warm-*"))
    assert (folder.stat().st_mode & 0o777) == 0o700
    deadline = time.time() + 60
    while any(folder.iterdir()) and time.time() < deadline:
        time.sleep(0.2)
    assert list(folder.iterdir()) == []


def test_the_fingerprint_follows_the_import_environment(monkeypatch):
    base = warm.fingerprint()
    monkeypatch.setenv("SOME_UNRELATED_VARIABLE", "1")
    assert warm.fingerprint() == base
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert warm.fingerprint() != base
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setenv("SLURM_JOB_ID", "12345")
    assert warm.fingerprint() != base


def test_a_deep_tmpdir_falls_back_to_tmp(monkeypatch, tmp_path):
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    d = warm.socket_dir()
    assert d.parent == Path("/tmp") and len(str(d / (warm.fingerprint() + ".sock"))) <= 107


def test_certify_and_train_give_the_same_bytes_through_the_worker(tmp_path, private_tmp):
    _, env = private_tmp
    fake_mnist(tmp_path / "raw", n_train=120, n_test=20)
    direct = dict(env, RSMOOTH_WARM="0")

    run_script("prepare_data.py", "--source", "mnist", "--root", tmp_path / "raw", "--out",
               tmp_path / "data.npz", env=direct)
    for tag, environ in (("direct", direct), ("warm", env)):
        run_script("train.py", "--data", tmp_path / "data.npz", "--alpha", 0.3, "--epochs", 1,
                   "--copies", 2, "--batch-size", 16, "--out", tmp_path / f"{tag}.pt", "--metrics",
                   tmp_path / f"{tag}.metrics.csv", env=environ)
        r = run_script("certify.py", "--model", tmp_path / "direct.pt", "--data",
                       tmp_path / "data.npz", "--alpha", 0.3, "--beta", 0.4, "--n-votes", 30,
                       "--n-cert", 20, "--out", tmp_path / f"{tag}.csv", env=environ)
        assert "risk " in r.stdout
    for suffix in (".pt", ".metrics.csv", ".csv"):
        assert (tmp_path / f"direct{suffix}").read_bytes() == (tmp_path / f"warm{suffix}").read_bytes()
    # a bad argument is refused the same way in both
    for environ in (direct, env):
        r = run_script("certify.py", "--model", tmp_path / "nope.pt", "--data", tmp_path / "data.npz",
                       "--alpha", 0, "--beta", 0, "--out", tmp_path / "x.csv", check=False, env=environ)
        assert r.returncode == 2 and "no such file" in r.stderr
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])  # SIGKILL: the OOM killer's
def test_a_job_killed_by_a_signal_ends_its_caller_with_the_same_signal(tmp_path, private_tmp, sig):
    _, env = private_tmp
    for switch in ("0", "1"):  # a plain process, then through the worker: the same status
        rc, out, err = run_probe(tmp_path, dict(env, RSMOOTH_WARM=switch), "signal", str(int(sig)))
        assert rc == -sig, (switch, rc, err)
        assert out == "" and "Traceback" not in err


def test_a_job_gets_its_callers_nice_value_and_limits_not_the_workers(tmp_path, private_tmp):
    _, env = private_tmp
    target = tmp_path / "w.txt"
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert run_probe(tmp_path, env, "identity", target)[1] == f"nice: 0 nofile: {nofile}\nwrite: ok\n"
    # a worker for the plain caller is now serving; callers that differ must not use it
    rc, out, _ = run_probe(tmp_path, env, "identity", target, prefix=["nice", "-n", "5"])
    assert rc == 0 and out.startswith("nice: 5 ")
    if shutil.which("prlimit"):
        rc, out, _ = run_probe(tmp_path, env, "identity", target, prefix=["prlimit", "--nofile=123:123"])
        assert rc == 0 and "nofile: 123" in out
    assert "in worker" not in out  # (the probe's identity branch exits before printing it)


@pytest.mark.skipif(not shutil.which("capsh") or os.geteuid() != 0, reason="needs root and capsh")
def test_a_caller_without_a_capability_cannot_borrow_it_from_a_worker(tmp_path, private_tmp):
    _, env = private_tmp
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    assert run_probe(tmp_path, env, "identity", ro / "a")[1].endswith("write: ok\n")  # root's worker
    probe = tmp_path / "probe.py"
    r = subprocess.run(["capsh", "--drop=cap_dac_override,cap_dac_read_search", "--", "-c",
                        f"{sys.executable} {probe} identity {ro / 'b'}"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.endswith("write: Permission denied\n"), r.stdout + r.stderr
    assert not (ro / "b").exists()


def test_the_worker_refuses_a_caller_whose_identity_differs_from_its_own(tmp_path, private_tmp):
    _, env = private_tmp
    assert run_probe(tmp_path, env, "0")[0] == 0  # a worker at nice 0
    rc, out, err = run_probe(tmp_path, env, "renice-after-key")  # its key, but nice 3
    assert rc == 0 and "in worker: False" in out
    assert "warm worker refused the job" in err and "running directly" in err


# Who the job is: a job run through a worker has its caller's user, groups and cgroup, because a
# caller that differs in any of them has another key (rsmooth.warm.identity) and so its own
# worker, started by itself. Root is needed to become another user, join other groups or move
# into another cgroup; the callers keep read access to the interpreter and the repository
# (wherever they lie) through ambient DAC capabilities.
_AS_OTHER = ["--inh-caps=+dac_override,+dac_read_search", "--ambient-caps=+dac_override,+dac_read_search"]
needs_setpriv = pytest.mark.skipif(not shutil.which("setpriv") or os.geteuid() != 0,
                                   reason="needs root and setpriv")


def _whoami(tmp_path, env, prefix=()):
    rc, out, err = run_probe(tmp_path, env, "whoami", prefix=prefix)
    assert rc == 0, err
    first, cgroup = out.splitlines()
    return first, cgroup


@needs_setpriv
def test_a_job_runs_as_its_callers_user_never_as_the_workers(tmp_path, private_tmp):
    tmpdir, env = private_tmp
    tmpdir.chmod(0o1777)  # each user makes its own private socket folder in it
    first, _ = _whoami(tmp_path, env)
    assert first == "in worker: True uid: 0 gid: 0 groups: " + str(sorted(os.getgroups()))
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *_AS_OTHER]
    first, _ = _whoami(tmp_path, env, prefix=as_nobody)
    assert first == "in worker: True uid: 65534 gid: 65534 groups: []"
    # two workers, each in its user's own folder
    assert (tmpdir / "rsmooth-warm-0").stat().st_uid == 0
    assert (tmpdir / "rsmooth-warm-65534").stat().st_uid == 65534
    assert len(list(tmpdir.glob("rsmooth-warm-*/*.sock"))) == 2


@needs_setpriv
def test_a_job_gets_its_callers_supplementary_groups(tmp_path, private_tmp):
    _, env = private_tmp
    assert _whoami(tmp_path, env)[0].startswith("in worker: True uid: 0 ")
    first, _ = _whoami(tmp_path, env, prefix=["setpriv", "--groups=4242,4343", *_AS_OTHER])
    assert first == "in worker: True uid: 0 gid: 0 groups: [4242, 4343]"
    first, _ = _whoami(tmp_path, env, prefix=["setpriv", "--clear-groups", *_AS_OTHER])
    assert first == "in worker: True uid: 0 gid: 0 groups: []"


def _writable_cgroup():
    for controller in ("pids", "cpu", "memory", "unified", ""):
        root = Path("/sys/fs/cgroup") / controller
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            return root
    return None


@pytest.mark.skipif(os.geteuid() != 0 or _writable_cgroup() is None, reason="needs root and a writable cgroup")
def test_a_job_runs_in_its_callers_cgroup(tmp_path, private_tmp):
    tmpdir, env = private_tmp
    _, home = _whoami(tmp_path, env)  # a worker in this test's own cgroup is now serving
    group = _writable_cgroup() / f"rsmooth-test-{os.getpid()}"
    group.mkdir()
    try:
        probe = tmp_path / "probe.py"
        r = subprocess.run(["sh", "-c", f'echo $$ > {group / "cgroup.procs"} && exec "$0" "$@"',
                            sys.executable, str(probe), "whoami"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        first, moved = r.stdout.splitlines()
        assert first.startswith("in worker: True uid: 0 ")
        assert f"/{group.name}" in moved and moved != home  # the job is in the caller's new cgroup
        assert len(list(tmpdir.glob("rsmooth-warm-*/*.sock"))) == 2  # by its own worker
    finally:
        for sock in tmpdir.glob("rsmooth-warm-*/*.sock"):
            subprocess.run(["pkill", "-f", str(sock)], check=False)
        deadline = time.monotonic() + 30
        while True:  # the worker that lived in the group must be gone before it can be removed
            try:
                group.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
