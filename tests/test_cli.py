"""Process setup shared by the scripts: threads and the allocator."""
import os
import platform
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from rsmooth import cli

# 20 forward passes of 128 images through the paper's CNN; prints the minor page faults they
# cost after one warm-up pass, with or without keep_freed_memory().
FAULTS = """
import resource, sys, torch
sys.path.insert(0, {repo!r})
from rsmooth import cli, models
if {keep}:
    assert cli.keep_freed_memory()
torch.set_num_threads(1)
m = models.PaperCNN().eval()
x = torch.rand(128, 1, 28, 28)
with torch.inference_mode():
    m(x)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        m(x)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(keep: bool) -> int:
    r = subprocess.run([sys.executable, "-c", FAULTS.format(repo=str(REPO), keep=keep)],
                       capture_output=True, text=True, check=True)
    return int(r.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_keep_freed_memory_stops_the_page_faults_of_every_batch():
    default, kept = page_faults(False), page_faults(True)
    # By default each pass maps its ~30 MB of activations afresh (thousands of faults per pass).
    assert default > 20 * 1000, default
    assert kept < default / 10, (kept, default)


def test_set_threads_uses_exactly_the_count_asked_for_and_says_when_it_oversubscribes(capsys):
    # The thread count changes a model's bits, so it is never capped at the CPUs a job got.
    before = torch.get_num_threads()
    try:
        cpus = len(os.sched_getaffinity(0))
        assert cli.set_threads(cpus + 3) == cpus + 3 == torch.get_num_threads()
        assert f"{cpus + 3} torch threads on {cpus} CPU(s)" in capsys.readouterr().err
        assert cli.set_threads(1) == 1 == torch.get_num_threads()
        assert cli.set_threads(0) == cpus == torch.get_num_threads()  # 0: every CPU (by hand)
        assert capsys.readouterr().err == ""
    finally:
        torch.set_num_threads(before)
