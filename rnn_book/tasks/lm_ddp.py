"""The character language model of chapter 04, trained data-parallel with DistributedDataParallel.

Each process reads its own contiguous streams of the global batch (:mod:`rnn_book.distributed`),
carries its own hidden state across batches, and DDP averages the gradients; the loss reported at
each step is the mean over the whole global batch.

    torchrun --nproc-per-node 2 -m rnn_book ddp-lm --steps 200            # 2 processes, gloo on CPU
    torchrun --nproc-per-node 4 -m rnn_book ddp-lm --checkpoint lm.pt     # 4 GPUs, nccl; rank 0 saves

Without ``torchrun`` the same command trains in one process. :func:`compare` checks, in seconds,
that N processes compute what one process computes on the concatenated batch.
"""
from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Sequence

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..distributed import (ShardedBatches, barrier, global_mean, init_from_env, launch, max_difference, rank_rows,
                           world_info)
from ..settings import seed as set_seed
from ..train import fit
from . import lm
from ..data.text import StatefulBatches
from .lm import StatefulLoss, prepare

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class LMConfig:
    """What to train: the model, the global batch, the optimiser and the number of steps."""

    corpus: str = "moby_dick"
    max_chars: int | None = 200_000
    kind: str = "lstm"
    hidden_size: int = 128
    embed_size: int = 32
    num_layers: int = 1
    batch_size: int = 32                # global: all processes together
    seq_len: int = 64
    steps: int = 50
    warmup_steps: int = 0               # trained but not timed (the first steps pay one-off costs)
    lr: float = 2e-3
    optimizer: str = "adam"
    clip: float | None = 1.0
    dtype: str = "float32"
    seed: int = 0
    threads: int = 1                    # torch threads per process

    def __post_init__(self):
        for name in ("hidden_size", "embed_size", "num_layers", "batch_size", "seq_len", "steps", "threads"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"LMConfig: {name} must be a positive int; got {v!r}")
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"LMConfig: warmup_steps must be an int >= 0; got {self.warmup_steps!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"LMConfig: dtype must be one of {sorted(DTYPES)}; got {self.dtype!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"LMConfig: optimizer must be 'adam' or 'sgd'; got {self.optimizer!r}")


def quick_config(**overrides) -> LMConfig:
    """A small model on the first 50,000 characters of Moby-Dick in float64: seconds, and exact to ~1e-12."""
    return replace(LMConfig(max_chars=50_000, hidden_size=32, embed_size=16, batch_size=8, seq_len=32, steps=1,
                            dtype="float64"), **overrides)


@dataclass
class RankResult:
    """What one process of a run measured; the losses are global (averaged over all processes)."""

    rank: int
    world: int
    device: str
    backend: str
    step_loss: list[float]              # mean loss over the whole global batch, at every step
    seconds_per_step: float             # wall time of the timed steps / their number
    tokens_per_step: int                # global: batch_size x seq_len
    shard: tuple[int, int]              # the rows [start, stop) of the global batch this process read

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_per_step / self.seconds_per_step


def build_model(cfg: LMConfig, vocab_size: int) -> torch.nn.Module:
    """Chapter 04's model (:func:`rnn_book.tasks.lm.build_model`), seeded: every process builds the same."""
    set_seed(cfg.seed)
    model = lm.build_model(cfg.kind, vocab_size, cfg.hidden_size, "cudnn", cfg.embed_size, cfg.num_layers)
    return model.to(DTYPES[cfg.dtype])


def _optimizer(cfg: LMConfig, params):
    return (torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD)(params, lr=cfg.lr)


def _wrap(model: torch.nn.Module, dev: torch.device) -> torch.nn.Module:
    """DDP around the model when there are 2+ processes; it broadcasts rank 0's weights, so the copies start equal."""
    if world_info()[1] == 1:
        return model
    return DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)


def _stream(ids: torch.Tensor, cfg: LMConfig, loss: StatefulLoss, rank: int, world: int):
    """This rank's batches forever, pass after pass; the carried state is reset where each pass begins."""
    passes = loss.passes(ShardedBatches(StatefulBatches(ids, cfg.batch_size, cfg.seq_len), rank, world))
    while True:
        yield from passes(None)


def train(cfg: LMConfig, checkpoint: str | os.PathLike | None = None, dev: torch.device | str = "cpu"
          ) -> RankResult:
    """Train on this rank's streams (every process calls this with the same ``cfg``).

    The first ``cfg.warmup_steps`` steps are trained but not timed. With ``checkpoint``, rank 0 alone
    writes the weights, the vocabulary and the loss curve, and the others wait until it is on disk.
    """
    rank, world = world_info()
    rows = rank_rows(cfg.batch_size, rank, world)
    dev = torch.device(dev)
    torch.set_num_threads(cfg.threads)
    data = prepare(cfg.corpus, cfg.max_chars)
    model = build_model(cfg, len(data.vocab)).to(dev)
    net = _wrap(model, dev)
    loss = StatefulLoss()
    feed = _stream(data.train, cfg, loss, rank, world)
    opt = _optimizer(cfg, net.parameters())
    losses: list[float] = []
    if cfg.warmup_steps:
        losses += fit(net, islice(feed, cfg.warmup_steps), loss, 1, optimizer=opt, clip=cfg.clip, device=dev).step_loss
    barrier(dev)
    t0 = time.perf_counter()
    losses += fit(net, islice(feed, cfg.steps), loss, 1, optimizer=opt, clip=cfg.clip, device=dev).step_loss
    barrier(dev)
    seconds = time.perf_counter() - t0
    curve = global_mean(losses, dev)
    result = RankResult(rank, world, str(dev), dist.get_backend() if world > 1 else "none", curve,
                        seconds / cfg.steps, cfg.batch_size * cfg.seq_len, (rows.start, rows.stop))
    if checkpoint is not None and rank == 0:
        torch.save({"model": model.state_dict(), "vocab": data.vocab.itos, "config": asdict(cfg),
                    "step_loss": curve, "world": world}, checkpoint)
    if world > 1:
        dist.barrier()
    return result


def one_step(cfg: LMConfig) -> dict[str, object]:
    """One optimiser step on the first global batch: this rank's gradients and updated weights, and the loss.

    Under DDP the gradients are the all-reduced ones, the same on every rank: what each rank steps with.
    """
    rank, world = world_info()
    torch.set_num_threads(cfg.threads)
    data = prepare(cfg.corpus, cfg.max_chars)
    model = build_model(cfg, len(data.vocab))
    net = _wrap(model, torch.device("cpu"))
    batch = next(iter(ShardedBatches(StatefulBatches(data.train, cfg.batch_size, cfg.seq_len), rank, world)))
    opt = _optimizer(cfg, net.parameters())
    opt.zero_grad(set_to_none=True)
    loss = StatefulLoss()(net, batch)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    opt.step()
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    return {"grads": grads, "weights": weights, "loss": global_mean([loss.item()])[0]}


def step_and_curve(cfg: LMConfig) -> dict[str, object]:
    """:func:`one_step` on a fresh model, then :func:`train` for ``cfg.steps`` steps: what :func:`compare` compares."""
    return {"step": one_step(cfg), "curve": train(cfg).step_loss}


def compare(world: int = 2, cfg: LMConfig | None = None) -> dict[str, object]:
    """``world`` DDP processes against one process on the concatenated batch, in one launch (seconds).

    One step: the largest differences of the (all-reduced) gradients and of the updated weights,
    the largest gradient for scale, and both losses. Training for ``cfg.steps`` steps with the state
    carried from batch to batch: both curves of the global loss and their largest difference.
    """
    cfg = cfg or quick_config(steps=20)
    single, ddp = step_and_curve(cfg), launch(step_and_curve, world, cfg)
    s, d = single["step"], ddp["step"]
    return {"processes": world, "steps": cfg.steps,
            "grad_max_diff": max_difference(s["grads"], d["grads"]),
            "weight_max_diff": max_difference(s["weights"], d["weights"]),
            "grad_max_abs": max(float(g.abs().max()) for g in s["grads"].values()),
            "loss_single": s["loss"], "loss_ddp": d["loss"],
            "curve_single": single["curve"], "curve_ddp": ddp["curve"],
            "curve_max_diff": max(abs(a - b) for a, b in zip(single["curve"], ddp["curve"]))}


def main(argv: Sequence[str] | None = None) -> RankResult:
    d = LMConfig()
    p = argparse.ArgumentParser(prog="torchrun --nproc-per-node N -m rnn_book ddp-lm",
                                description="Train the character LM data-parallel (DDP); one process without torchrun.")
    p.add_argument("--corpus", default=d.corpus, choices=("moby_dick", "shijing"))
    p.add_argument("--max-chars", type=int, default=d.max_chars, help="first characters of the corpus (0: all)")
    p.add_argument("--kind", default=d.kind, choices=("rnn", "lstm", "gru"))
    p.add_argument("--hidden", type=int, default=d.hidden_size)
    p.add_argument("--embed", type=int, default=d.embed_size)
    p.add_argument("--layers", type=int, default=d.num_layers)
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="global batch: streams over all processes")
    p.add_argument("--seq-len", type=int, default=d.seq_len)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--threads", type=int, default=d.threads, help="torch threads per process")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--checkpoint", help="rank 0 writes the weights, vocabulary and loss curve here")
    a = p.parse_args(argv)
    try:
        cfg = LMConfig(corpus=a.corpus, max_chars=a.max_chars or None, kind=a.kind, hidden_size=a.hidden,
                       embed_size=a.embed, num_layers=a.layers, batch_size=a.batch_size, seq_len=a.seq_len,
                       steps=a.steps, lr=a.lr, threads=a.threads, seed=a.seed)
    except ValueError as e:
        p.error(str(e))
    dev = init_from_env()
    try:
        r = train(cfg, a.checkpoint, dev)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    print(f"rank {r.rank} of {r.world} on {r.device} ({r.backend}): streams {r.shard[0]}..{r.shard[1] - 1} "
          f"of {cfg.batch_size}", flush=True)
    if r.rank == 0:
        print(f"{cfg.steps} steps of {r.tokens_per_step} tokens: loss {r.step_loss[0]:.3f} -> {r.step_loss[-1]:.3f} "
              f"(perplexity {math.exp(r.step_loss[-1]):.1f}); {1e3 * r.seconds_per_step:.1f} ms/step, "
              f"{r.tokens_per_second:,.0f} tokens/s", flush=True)
        if a.checkpoint:
            print(f"wrote {Path(a.checkpoint)}", flush=True)
    return r
