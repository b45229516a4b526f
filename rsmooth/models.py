"""Base classifiers. Inputs are pixels in [0, 1] and the noise is added to them; any
normalisation is the model's own first layer or the config's ``normalize`` in front of it
(:func:`with_normalize`), so the noise levels alpha and beta always mean pixel-space standard
deviations. Architectures are the built-in ones or ``package.module:function`` of your own.

Guarantee: the architecture's name and the image shape alone decide the network that
:func:`build_model` builds, and :func:`with_normalize` adds nothing but (x - mean) / std in
front. This module builds networks and nothing else: checkpoints, the device and the checks of
models and inputs are :mod:`rsmooth.runtime`'s."""
from __future__ import annotations

import importlib
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn


class PaperCNN(nn.Module):
    """Pal & Sulam's MNIST CNN: Conv(1,32,3) ReLU Conv(32,64,3) ReLU MaxPool2 Flatten
    Linear(9216,128) ReLU Linear(128,K).

    The forward pass is written for speed on CPUs and computes the same function as the
    layer-by-layer version: ReLUs run in place, and max-pooling runs before the second ReLU
    (ReLU is monotone, so max-pool and ReLU commute exactly), pooling 4x fewer values.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        side = (image_size - 4) // 2
        self.fc1 = nn.Linear(64 * side * side, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x).relu_()
        h = F.max_pool2d(self.conv2(h), 2).relu_()
        return self.fc2(self.fc1(h.flatten(1)).relu_())


class Normalize(nn.Module):
    """(x - mean) / std per channel, as the model's first layer: noise is added to pixels in
    [0, 1] before it, so alpha and beta mean pixel-space standard deviations on every dataset."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    @classmethod
    def for_channels(cls, in_channels: int, mean=None, std=None) -> "Normalize":
        """CIFAR-10's per-channel statistics for 3 channels (0.5 and 0.25 otherwise), unless
        ``mean`` and ``std`` are given."""
        if mean is None:
            mean = CIFAR10_MEAN if in_channels == 3 else (0.5,) * in_channels
        if std is None:
            std = CIFAR10_STD if in_channels == 3 else (0.25,) * in_channels
        return cls(mean, std)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:  # projection shortcut (He et al.'s option B)
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu_()
        return (self.bn2(self.conv2(out)) + self.shortcut(x)).relu_()


CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet of depth 6n + 2 (20, 32, 44, 56, 110: Cohen et al. use 110):
    a 3x3 convolution with 16 channels, three stages of n basic blocks with 16, 32, 64 channels
    (strides 1, 2, 2), global average pooling and a linear head. The first layer normalises
    each channel (CIFAR-10 statistics by default)."""

    def __init__(self, depth: int = 20, in_channels: int = 3, num_classes: int = 10,
                 image_size: int = 32, mean=None, std=None):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2 (20, 32, 44, 56, 110), got {depth}")
        n = (depth - 2) // 6
        self.normalize = Normalize.for_channels(in_channels, mean, std)
        self.conv = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.bn(self.conv(self.normalize(x))).relu_()
        h = self.layers(h)
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


class _ConvGroup(nn.Module):
    """conv3x3 -> max-pool 2 -> BN -> GELU, then a residual conv3x3 -> BN -> GELU at the pooled
    resolution: the convolution before the pool is the group's only full-resolution one."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        h = F.gelu(self.bn1(F.max_pool2d(self.conv1(x), 2)))
        return h + F.gelu(self.bn2(self.conv2(h)))


class FastCifarNet(nn.Module):
    """A small residual network that trains CIFAR-10 to ~85% in a few CPU minutes (``fastnet``).

    Normalisation per channel (the first layer, as in ``CifarResNet``), a 2x2 stem convolution
    to 24 channels (32x32 -> 31x31) with GELU, three conv-pool groups of ``widths`` channels
    (31 -> 15 -> 7 -> 3 pixels, each with a residual convolution at the pooled size), global
    max-pooling and a linear head without bias. The layout follows the fast CIFAR-10 trainers
    (Page's ResNet-9, Jordan's airbench) with narrow widths, so that every convolution has
    enough channels to run near the CPU's matrix-multiply peak: 39.8 MFLOP per image at the
    default widths (32, 64, 128), half of ResNet-20's 81.6 (``flops_per_image``), and each of
    them several times faster (docs/performance.md).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32,
                 widths=(32, 64, 128), stem: int = 24, mean=None, std=None):
        super().__init__()
        if (image_size - 1) >> len(widths) < 1:  # the stem takes a pixel, each group halves
            raise ValueError(f"fastnet needs images of at least {2 ** len(widths) + 1} pixels, "
                             f"got {image_size}")
        self.normalize = Normalize.for_channels(in_channels, mean, std)
        self.stem = nn.Conv2d(in_channels, stem, 2)
        groups, cin = [], stem
        for w in widths:
            groups.append(_ConvGroup(cin, w))
            cin = w
        self.groups = nn.Sequential(*groups)
        self.fc = nn.Linear(cin, num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.groups(F.gelu(self.stem(self.normalize(x))))
        return self.fc(torch.amax(h, dim=(2, 3)))


def _resnet(depth):
    def make(in_channels=3, num_classes=10, image_size=32, **kw):
        return CifarResNet(depth, in_channels, num_classes, image_size, **kw)
    return make


ARCHITECTURES = {"cnn": PaperCNN, **{f"resnet{d}": _resnet(d) for d in (20, 32, 44, 56, 110)},
                 "fastnet": FastCifarNet}


def user_architecture(arch: str):
    """The function of ``package.module:function``, imported from ``sys.path`` (PYTHONPATH
    included) and then the working directory."""
    module, _, name = arch.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        fn = getattr(importlib.import_module(module), name, None)
    except ImportError as e:
        raise ValueError(f"arch {arch}: cannot import {module} ({type(e).__name__}: {e}); put its "
                         "folder on PYTHONPATH or run in the folder that holds it") from None
    if not callable(fn):
        raise ValueError(f"arch {arch}: module {module} has no function {name}")
    return fn


def build_model(arch: str, in_channels: int, num_classes: int, image_size: int, **kwargs) -> nn.Module:
    """The named architecture for images [C, H, W] = [in_channels, image_size, image_size]; a
    user's ``package.module:function`` is called as function(in_channels, num_classes, image_size)."""
    if ":" in arch:
        net = user_architecture(arch)(in_channels, num_classes, image_size, **kwargs)
        if not isinstance(net, nn.Module):
            raise ValueError(f"arch {arch}: returned a {type(net).__name__}, not a torch.nn.Module")
        return net
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown model architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch](in_channels=in_channels, num_classes=num_classes,
                               image_size=image_size, **kwargs)


def with_normalize(net: nn.Module, in_channels: int, mean=None, std=None) -> nn.Module:
    """The base classifier of pixels in [0, 1]: ``net`` behind (x - mean) / std per channel (the
    config's ``normalize``; one value for every channel, or one per channel), or ``net`` itself
    without them. The noise comes before it; checkpoints hold ``net``'s state dict only."""
    if mean is None and std is None:
        return net
    if mean is None or std is None or len(mean) != len(std) or len(mean) not in (1, in_channels):
        n = [len(v) if v is not None else 0 for v in (mean, std)]
        raise ValueError(f"normalize: {n[0]} mean(s) and {n[1]} std(s) for images of {in_channels} "
                         f"channel(s); give {'1 or ' * (in_channels > 1)}{in_channels} of each")
    return nn.Sequential(Normalize(mean, std), net)
