"""Float32 arithmetic on CUDA: IEEE float32 or TF32 in the matrix products.

On an Ampere or later GPU, cuBLAS (``torch.matmul``, hence the scratch engine) and cuDNN (the
library engine's fused RNN kernels) may round the factors of every product to TF32 -- float32's
range with a 10-bit mantissa, about 3 decimal digits -- and accumulate in float32. PyTorch leaves
it off for matrix products and on for cuDNN by default, so the two engines do not even do the same
arithmetic unless both are set. :func:`tf32` sets both. On a CPU it changes nothing.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import torch


def tf32_enabled() -> tuple[bool, bool]:
    """(matrix products, cuDNN): whether each may use TF32 now."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # newer torch calls these flags legacy; they still rule
        return bool(torch.backends.cuda.matmul.allow_tf32), bool(torch.backends.cudnn.allow_tf32)


@contextmanager
def tf32(enabled: bool):
    """Run the block with TF32 on (``True``) or off (``False``) for both cuBLAS and cuDNN, then restore."""
    if not isinstance(enabled, bool):
        raise TypeError(f"tf32: enabled must be True or False; got {enabled!r}")
    before = tf32_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
