"""Base classifiers. Inputs are pixels in [0, 1]; any normalisation is the model's own first
layer, so the noise levels alpha and beta always mean pixel-space standard deviations."""
from __future__ import annotations

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


ARCHITECTURES = {"cnn": PaperCNN}


def build_model(arch: str, in_channels: int, num_classes: int, image_size: int, **kwargs) -> nn.Module:
    """The named architecture for images [C, H, W] = [in_channels, image_size, image_size]."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown model architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch](in_channels=in_channels, num_classes=num_classes,
                               image_size=image_size, **kwargs)


def load_state(model: nn.Module, path) -> nn.Module:
    """Load a ``.pt`` state dict into ``model``; a clear error names the file if it does not fit."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a torch file, pickled objects...
        raise ValueError(f"{path}: not a readable PyTorch state dict ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, found {type(state).__name__}")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{path}: state dict does not fit {type(model).__name__}: {e}") from None
    return model


def pick_device(device: str) -> torch.device:
    """``auto`` is CUDA when available, else CPU; anything else is passed to torch."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
