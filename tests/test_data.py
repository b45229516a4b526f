import numpy as np
import pytest
import torchvision

from fakedata import fake_mnist, fake_npz
from rsmooth import data


def test_mnist_from_torchvision_raw_layout_without_download(tmp_path, monkeypatch):
    fake_mnist(tmp_path, n_train=50, n_test=20)
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    a = data.fetch("mnist", tmp_path)
    assert a.x_train.shape == (50, 1, 28, 28) and a.x_train.dtype == np.uint8
    assert a.x_test.shape == (20, 1, 28, 28) and a.y_test.dtype == np.int64
    assert a.num_classes == 10
    data.save_cache(a, tmp_path / "c.npz")
    b = data.load_cache(tmp_path / "c.npz")
    np.testing.assert_array_equal(a.x_train, b.x_train)
    x = data.to_float(b.x_test)
    assert x.dtype.is_floating_point and float(x.max()) <= 1.0 and float(x.min()) >= 0.0


def test_missing_mnist_offline_names_the_root_and_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(data.DataError) as e:
        data.fetch("mnist", tmp_path / "nowhere")
    msg = str(e.value)
    assert str(tmp_path / "nowhere") in msg and "train-images-idx3-ubyte" in msg
    assert "data_root" in msg


def test_corrupted_raw_mnist_is_a_clear_error(tmp_path, monkeypatch):
    fake_mnist(tmp_path, n_train=50, n_test=20)
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    raw = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    raw.write_bytes(raw.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="MNIST"):
        data.fetch("mnist", tmp_path)


@pytest.mark.parametrize("channels", [1, 3])
def test_npz_source_reads_hw_and_hwc(tmp_path, channels):
    p = fake_npz(tmp_path / "d.npz", n_train=30, n_test=10, side=8, channels=channels, classes=4)
    a = data.fetch("npz", tmp_path, p)
    assert a.x_train.shape == (30, channels, 8, 8) and a.num_classes == 4


def _bad_npz(tmp_path, **override):
    arr = dict(x_train=np.zeros((4, 8, 8), np.uint8), y_train=np.array([0, 1, 2, 1]),
               x_test=np.zeros((2, 8, 8), np.uint8), y_test=np.array([0, 1]))
    arr.update(override)
    arr = {k: v for k, v in arr.items() if v is not None}
    p = tmp_path / "bad.npz"
    np.savez(p, **arr)
    return p


@pytest.mark.parametrize("override, words", [
    ({"y_test": None}, "missing key(s) ['y_test']"),
    ({"x_train": np.zeros((4, 8, 8), np.float32)}, "dtype float32"),
    ({"x_train": np.zeros((4, 8), np.uint8)}, "rank 2"),
    ({"y_train": np.array([0, 1, 2])}, "4 images but y_train has 3 labels"),
    ({"y_train": np.array([0, 1, 2, -1])}, "labels must lie in"),
    ({"x_test": np.zeros((2, 9, 9), np.uint8)}, "different shapes"),
])
def test_malformed_npz_is_refused_with_file_and_problem(tmp_path, override, words):
    p = _bad_npz(tmp_path, **override)
    with pytest.raises(data.DataError) as e:
        data.read_npz(p)
    assert str(p) in str(e.value) and words in str(e.value)


def test_label_above_num_classes_and_foreign_cache(tmp_path):
    p = _bad_npz(tmp_path)
    with pytest.raises(data.DataError, match=r"labels must lie in \[0, 2\)"):
        data.read_npz(p, num_classes=2)
    with pytest.raises(data.DataError, match="not a dataset cache"):
        data.load_cache(p)


def test_keep_classes_relabels_in_order(tmp_path):
    p = fake_npz(tmp_path / "d.npz", n_train=200, n_test=50, side=8, channels=1, classes=10)
    a = data.fetch("npz", tmp_path, p, classes=[8, 3])
    assert a.num_classes == 2 and set(np.unique(a.y_train)) == {0, 1}
    full = data.read_npz(p)
    assert (a.y_train == 0).sum() == (full.y_train == 8).sum()


def test_the_test_sample_is_a_function_of_its_seed_alone_and_nested():
    a = data.test_sample(10000, 500, "random", 0)
    assert np.array_equal(a, data.test_sample(10000, 500, "random", 0))  # every job: the same
    assert len(a) == 500 and np.all(np.diff(a) > 0) and a.min() >= 0 and a.max() < 10000
    assert not np.array_equal(a, np.arange(500))                         # not the first 500
    b = data.test_sample(10000, 500, "random", 1)
    assert len(np.intersect1d(a, b)) < 100                               # another seed: other images
    assert np.isin(a, data.test_sample(10000, 2000, "random", 0)).all()  # a larger n_test extends it
    assert np.array_equal(data.test_sample(10000, 500, "first", 0), np.arange(500))
    for n in (0, 10000):
        assert np.array_equal(data.test_sample(10000, n, "random", 3), np.arange(10000))


def test_the_random_test_sample_is_uniform_over_the_images():
    # 400 seeds x 25 of 100 images: each image is drawn 100 times in expectation (binomial
    # sd 8.7); the first and last halves equally often (a first-K sample would put all in one).
    hits = np.zeros(100)
    for seed in range(400):
        hits[data.test_sample(100, 25, "random", seed)] += 1
    assert hits.sum() == 400 * 25
    assert 55 < hits.min() and hits.max() < 145
    assert abs(hits[:50].sum() - hits[50:].sum()) < 400


@pytest.mark.parametrize("args, words", [
    ((100, 101, "random", 0), "n_test 101 is outside [0, 100]"),
    ((100, 10, "last", 0), "sample must be one of random, first, got 'last'"),
])
def test_a_bad_test_sample_is_refused(args, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        data.test_sample(*args)
