"""Run-wide settings: quick mode, repeatable seeds, the compute device and the CPU thread count."""
from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

QUICK_ENV = "RNN_BOOK_QUICK"


def is_quick() -> bool:
    """True when the environment variable ``RNN_BOOK_QUICK`` is 1/true/yes (the tests set it)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise: ``epochs = pick(full=30, quick=3)``."""
    return quick if is_quick() else full


def mode_name() -> str:
    return "quick" if is_quick() else "full"


def seed(n: int = 0) -> int:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so that a run repeats exactly."""
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(n)
    return n


# A prime larger than any epoch count: seed * EPOCH_STRIDE + epoch never repeats across (seed, epoch) pairs.
EPOCH_STRIDE = 100_003


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's data in a run seeded ``seed``: every epoch gets fresh, repeatable batches."""
    return seed * EPOCH_STRIDE + epoch


def device() -> torch.device:
    """CUDA when a GPU is present, otherwise the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_of(model: torch.nn.Module) -> torch.device:
    """The device a model's parameters live on (where its inputs must go)."""
    try:
        return next(model.parameters()).device
    except StopIteration:
        raise ValueError(f"device_of: {type(model).__name__} has no parameters, so it lives on no device") from None


@contextlib.contextmanager
def threads(n: int | None):
    """Run the block with ``torch.set_num_threads(n)``, then restore the count (``None``: leave it alone).

    The book's models are small: splitting their matrix products over several threads can cost more in
    synchronisation than it gains, and on a busy shared CPU many times more.
    """
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads: n must be a positive int or None; got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def cudnn_active() -> bool:
    """Whether torch.nn's recurrent layers will run cuDNN kernels here."""
    return torch.cuda.is_available() and torch.backends.cudnn.is_available() and torch.backends.cudnn.enabled


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one): spread records and benchmarks note it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def describe_device() -> str:
    """One line naming the device, e.g. 'cpu (2 threads), cuDNN not active'."""
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        cud = f"cuDNN {torch.backends.cudnn.version()} active" if cudnn_active() else "cuDNN not active"
        return f"cuda:0 {name}, {cud}"
    return f"cpu ({torch.get_num_threads()} threads), cuDNN not active (no CUDA device)"
