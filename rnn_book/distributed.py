"""Data parallelism on torch.distributed: which streams each process reads, and starting the processes.

In data parallelism N processes each hold a whole copy of the model. At every step each reads its
own share of the global batch, computes the loss and the gradients of that share, and
DistributedDataParallel averages the gradients over the processes (an all-reduce) during
``backward``; every process then takes the same optimiser step, so the copies stay equal. The time
loop inside each sequence is not split: data parallelism divides the batch, never the recurrence.

For stateful truncated BPTT each process must read the *same* streams at every step, so that the
hidden state it carries into the next batch is the state of its own streams: :func:`rank_rows`
gives process r a contiguous block of the global batch's rows.

Processes are started by ``torchrun`` (:func:`init_from_env` joins the group it describes) or, from
Python and without a network port, by :func:`launch`.
"""
from __future__ import annotations

import os
import tempfile
import time
from typing import Callable, Iterator, Sequence

import torch
import torch.distributed as dist


# ---------------------------------------------------------------- which streams a rank reads

def rank_rows(batch_size: int, rank: int, world: int) -> slice:
    """The rows (streams) of a global batch that process ``rank`` of ``world`` reads: a contiguous block.

    The global batch is the concatenation of the ranks' blocks in rank order, so N processes together
    see exactly the batch one process would see.
    """
    for name, v in (("batch_size", batch_size), ("world", world)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"rank_rows: {name} must be a positive int; got {v!r}")
    if not isinstance(rank, int) or not 0 <= rank < world:
        raise ValueError(f"rank_rows: rank must be an int in 0..{world - 1}; got {rank!r}")
    if batch_size % world:
        raise ValueError(f"rank_rows: the global batch ({batch_size} streams) must split evenly over "
                         f"{world} processes; choose a batch size divisible by {world}")
    per = batch_size // world
    return slice(rank * per, (rank + 1) * per)


class ShardedBatches:
    """The batches of the global batch (e.g. :class:`~rnn_book.data.text.StatefulBatches`), keeping only
    this rank's streams (rows ``rank_rows(batches.batch_size, rank, world)``).

    Row b of batch k+1 still continues row b of batch k, so a carried state stays aligned.
    """

    def __init__(self, batches, rank: int = 0, world: int = 1):
        self.rows = rank_rows(batches.batch_size, rank, world)
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.batches:
            yield x[self.rows], y[self.rows]


# ---------------------------------------------------------------- the group this process is in

def world_info() -> tuple[int, int]:
    """(rank, world) of this process: from the process group, else 0 of 1."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def global_mean(values: Sequence[float], dev: torch.device | str = "cpu") -> list[float]:
    """Element-wise mean of a list of numbers over all processes (plain copy when there is one)."""
    t = torch.tensor(list(values), dtype=torch.float64, device=dev)
    _, world = world_info()
    if world > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)   # gloo has no AVG
    return (t / world).tolist()


def barrier(dev: torch.device | str = "cpu") -> None:
    """Wait for every process (and, on a GPU, for its queued kernels): the edges of a timed region."""
    if world_info()[1] > 1:
        dist.barrier()
    if torch.device(dev).type == "cuda":
        torch.cuda.synchronize(dev)


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Largest |a - b| over every tensor of two name -> tensor dicts with the same names and shapes."""
    if a.keys() != b.keys():
        raise ValueError(f"max_difference: different names: {sorted(a.keys() ^ b.keys())}")
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


# ---------------------------------------------------------------- starting processes

def init_from_env() -> torch.device:
    """Join the group that ``torchrun`` describes in the environment; this process's device.

    nccl when CUDA is present (one GPU per process, ``LOCAL_RANK``), gloo on CPUs. Without
    ``torchrun`` no group is made and the process trains alone.
    """
    use_cuda = torch.cuda.is_available()
    dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return dev


def _worker(rank: int, world: int, store: str, fn: Callable, args: tuple, out: str) -> None:
    dist.init_process_group("gloo", store=dist.FileStore(store, world), rank=rank, world_size=world)
    try:
        result = fn(*args)
        if rank == 0:
            torch.save(result, out)
    finally:
        dist.destroy_process_group()


def launch(fn: Callable, world: int, *args, timeout: float = 300.0):
    """Run ``fn(*args)`` in ``world`` fresh local processes joined in a gloo group; return rank 0's result.

    ``fn`` must be importable (defined at the top level of a module). The group meets in a file, so no
    network port is needed and several launches can run side by side.
    """
    import multiprocessing as mp

    if not isinstance(world, int) or world < 1:
        raise ValueError(f"launch: world must be a positive int; got {world!r}")
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="rnn_book_ddp_") as tmp:
        store, out = os.path.join(tmp, "store"), os.path.join(tmp, "result.pt")
        procs = [ctx.Process(target=_worker, args=(r, world, store, fn, args, out)) for r in range(world)]
        for p in procs:
            p.start()
        deadline = time.monotonic() + timeout
        # wait for all; when one rank fails the others would wait for it in the next all-reduce: stop them
        while time.monotonic() < deadline:
            codes = [p.exitcode for p in procs]
            if None not in codes or any(c not in (None, 0) for c in codes):
                break
            time.sleep(0.02)
        codes = [p.exitcode for p in procs]
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join()
        if any(c not in (None, 0) for c in codes):
            raise RuntimeError(f"launch: {fn.__name__} failed; exit codes by rank: {codes} (None: stopped)")
        if None in codes:
            raise TimeoutError(f"launch: {fn.__name__} on {world} processes did not finish in {timeout:.0f} s")
        return torch.load(out, weights_only=False)
