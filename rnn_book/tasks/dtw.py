"""Dynamic time warping (DTW): speech recognition before neural networks.

Two people (or one person twice) say "seven" at different speeds, so frame i of one clip does not
line up with frame i of the other. DTW lines them up: it finds the monotone path through the grid of
frame pairs (i, j), from (0, 0) to the last frame of each, with the smallest total distance between
the paired frames, and that total is the distance between the two clips (Sakoe & Chiba 1978).
A classifier then needs no training at all: keep labelled recordings as *templates* and give a new
clip the label of the template nearest to it.

With c[i, j] the distance between frame i of one clip and frame j of the other, the cumulative cost
obeys

    D[i, j] = c[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1]),    D[-1, -1] = 0, other D[-1, .] = D[., -1] = inf

and the clips' distance is D[last, last] / (frames of one + frames of the other), so that long clips
are not penalised for being long.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

import torch


def _frames(x, who: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{who}: expected a non-empty (frames, features) tensor; got {got}")
    return x.double()


def frame_costs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """c[i, j] = ||a_i - b_j||, the Euclidean distance between frame i of ``a`` and frame j of ``b``."""
    return torch.cdist(_frames(a, "frame_costs")[None], _frames(b, "frame_costs")[None])[0]


def _cost_row(c_row: torch.Tensor, above: torch.Tensor, corner: torch.Tensor) -> torch.Tensor:
    """Row i of D from row i-1 (``above``), for a batch of grids at once: (K, J) -> (K, J).

    The step from the left makes the row a running minimum: with S[j] = c[i, 0] + ... + c[i, j] and
    e[j] = c[i, j] + min(D[i-1, j-1], D[i-1, j]), unrolling D[i, j] = min(e[j], c[i, j] + D[i, j-1])
    gives D[i, j] = S[j] + min over k <= j of (e[k] - S[k]).
    """
    diagonal = torch.cat([corner[:, None], above[:, :-1]], dim=1)                  # D[i-1, j-1]
    # e[j] = c[i, j] + min(D[i-1, j-1], D[i-1, j])
    e = c_row + torch.minimum(diagonal, above)
    # S[j] = c[i, 0] + ... + c[i, j]
    S = c_row.cumsum(dim=1)
    # D[i, j] = S[j] + min_{k <= j} (e[k] - S[k])
    return S + (e - S).cummin(dim=1).values


def distances(query: torch.Tensor, templates: Sequence[torch.Tensor]) -> torch.Tensor:
    """The DTW distance from ``query`` (frames, features) to each template: a float64 tensor (templates,).

    The templates are padded into one batch, and row by row every grid advances at once. Padding sits
    to the right of a template's last frame, and column j of D depends only on columns <= j, so each
    template's distance is read, unaffected, at its own last frame.
    """
    q = _frames(query, "distances")
    if not templates:
        raise ValueError("distances: expected at least one template; got none")
    ts = [_frames(t, "distances") for t in templates]
    if any(t.shape[1] != q.shape[1] for t in ts):
        raise ValueError(f"distances: the query has {q.shape[1]} features per frame; templates have "
                         f"{sorted({t.shape[1] for t in ts})}")
    lengths = torch.tensor([t.shape[0] for t in ts])
    padded = torch.nn.utils.rnn.pad_sequence(ts, batch_first=True)                 # (K, J, F)
    c = torch.cdist(q[None].expand(len(ts), -1, -1), padded)                        # (K, I, J)
    inf = torch.full((len(ts),), math.inf, dtype=torch.float64)
    row = torch.full(c[:, 0].shape, math.inf, dtype=torch.float64)                  # D[-1, .] = inf
    corner = torch.zeros(len(ts), dtype=torch.float64)                              # D[-1, -1] = 0
    for i in range(q.shape[0]):
        row = _cost_row(c[:, i], row, corner)
        corner = inf                                                                # D[i, -1] = inf
    last = row[torch.arange(len(ts)), lengths - 1]
    return last / (q.shape[0] + lengths)


def distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """The DTW distance between two clips' frames: min over warping paths of the summed frame
    distances, divided by the total number of frames."""
    return float(distances(a, [b])[0])


def all_paths_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """The same distance by brute force: try every monotone path from (0, 0) to the last frames.

    A path takes len(a) + len(b) - 2 - d single steps and d diagonal ones; there are very many, so
    this is for checking :func:`distance` on clips of a few frames only.
    """
    c = frame_costs(a, b)
    I, J = c.shape
    if I * J > 64:
        raise ValueError(f"all_paths_distance: enumerating paths is for tiny grids (at most 64 cells); got {I}x{J}")
    best = math.inf
    moves = ((1, 0), (0, 1), (1, 1))
    for n in range(max(I, J) - 1, I + J - 1):                   # a path has between max-1 and I+J-2 moves
        for path in itertools.product(moves, repeat=n):
            i = j = 0
            total = float(c[0, 0])
            for di, dj in path:
                i, j = i + di, j + dj
                if i >= I or j >= J:
                    break
                total += float(c[i, j])
            else:
                if (i, j) == (I - 1, J - 1):
                    best = min(best, total)
    return best / (I + J)


def nearest_template(queries: Sequence[torch.Tensor], templates: Sequence[torch.Tensor],
                     labels: Sequence[int]) -> torch.Tensor:
    """The label of the template nearest to each query by DTW (a 1-nearest-neighbour classifier)."""
    if len(templates) != len(labels):
        raise ValueError(f"nearest_template: expected one label per template; got {len(templates)} templates, "
                         f"{len(labels)} labels")
    labels = torch.as_tensor(list(labels))
    return torch.stack([labels[distances(q, templates).argmin()] for q in queries])
