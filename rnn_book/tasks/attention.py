"""Attention (注意力机制): the decoder looks at every encoder state instead of only the last one.

A bidirectional encoder turns the English tokens x_1..x_S into annotations h_j = [→h_j; ←h_j]. At
every target step the decoder scores each annotation against its state s_t, turns the scores into
weights with a softmax over the REAL source positions, and reads their weighted mean, the context c_t:

    score        e_tj = v^T tanh(W_q s_t + W_k h_j + b_k)     additive (Bahdanau, Cho & Bengio 2015)
                 e_tj = s_t^T W h_j                           multiplicative, "general" (Luong et al. 2015)
    weights      α_tj = exp(e_tj) / Σ_{k real} exp(e_tk)      exactly 0 on padded positions
    context      c_t  = Σ_j α_tj h_j
    decoder      s_t  = g(e(y_{t-1}), s_{t-1}),               s_0 = tanh(W_b [→h_S; ←h_1] + b_b)
    output       P(y_t | y_<t, x) = softmax(W_o [s_t; c_t] + b_o)

The context is read AFTER the decoder step, from s_t, as Luong et al. (2015) do: the decoder's
recurrence does not depend on c_t, so under teacher forcing it runs over the whole target in one call
of the recurrent layer, and the attention of all steps is one batched computation. (Bahdanau et al.
read it BEFORE the step, from s_{t-1}, and feed c_t into g; that forces a loop over time steps.)

:class:`AttentionSeq2Seq` has the interface of :class:`rnn_book.tasks.seq2seq.Seq2Seq` (``encode``,
``decode``, ``forward``), so greedy search, beam search and evaluation work on both unchanged.
Shapes: queries (T, B, H), annotations (S, B, 2H), scores and weights (T, S, B).
"""
from __future__ import annotations

import torch
from torch import nn

from .. import make_layer
from .seq2seq import check_ids

SCORES = ("additive", "multiplicative")


class AdditiveScore(nn.Module):
    """e_tj = v^T tanh(W_q s_t + W_k h_j + b_k): a one-hidden-layer network scores each (query, key) pair."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """W_k h_j + b_k for every source position, once per sentence: (S, B, K) -> (S, B, A)."""
        return self.W_k(keys)

    def forward(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        """queries (T, B, Q), prepared keys (S, B, A) -> scores (T, S, B)."""
        # e_tj = v^T tanh(W_q s_t + W_k h_j + b_k)
        e = self.v(torch.tanh(self.W_q(query)[:, None] + prepared[None])).squeeze(-1)
        return e


class MultiplicativeScore(nn.Module):
    """e_tj = s_t^T W h_j (Luong's "general" score): one bilinear form, no hidden layer."""

    def __init__(self, query_size: int, key_size: int, attention_size: int | None = None):
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """W h_j for every source position, once per sentence: (S, B, K) -> (S, B, Q)."""
        return self.W(keys)

    def forward(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        """queries (T, B, Q), prepared keys (S, B, Q) -> scores (T, S, B)."""
        # e_tj = s_t^T W h_j
        e = torch.einsum("tbq,sbq->tsb", query, prepared)
        return e


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -2) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` (the source positions) among those where ``mask`` is True; 0 elsewhere.

    ``mask`` (S, B) broadcasts against ``scores`` (S, B) or (T, S, B).
    """
    if scores.shape[-mask.dim():] != mask.shape:
        raise ValueError(f"masked_softmax: expected scores (..., S, B) for a mask of shape {tuple(mask.shape)}; "
                         f"got {tuple(scores.shape)}")
    if not bool(mask.any(0).all()):
        raise ValueError("masked_softmax: a sentence with no real position has nothing to attend to")
    # α_tj = exp(e_tj) / Σ_{k real} exp(e_tk): exp(-inf) = 0 on padding
    alpha = scores.masked_fill(~mask, float("-inf")).softmax(dim)
    return alpha


def attend(score: nn.Module, query: torch.Tensor, prepared: torch.Tensor, values: torch.Tensor,
           mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Read the annotations: (context (T, B, K), weights (T, S, B)) for queries (T, B, Q) over values (S, B, K)."""
    e = score(query, prepared)                                  # e_tj, (T, S, B)
    alpha = masked_softmax(e, mask)                             # α_tj, (T, S, B)
    # c_t = Σ_j α_tj h_j
    context = torch.einsum("tsb,sbk->tbk", alpha, values)
    return context, alpha


def make_score(name: str, query_size: int, key_size: int, attention_size: int) -> nn.Module:
    if name not in SCORES:
        raise ValueError(f"make_score: score must be one of {SCORES}; got {name!r}")
    cls = AdditiveScore if name == "additive" else MultiplicativeScore
    return cls(query_size, key_size, attention_size)


class AttentionSeq2Seq(nn.Module):
    """Bidirectional encoder, a decoder recurrent layer, and attention over the annotations at every step.

    The decoder state is ``(s, memory, prepared, mask)``; every tensor in it keeps the batch (or the
    beam's hypotheses) on dim 1, so :func:`rnn_book.tasks.beam.reorder` can select rows of it.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, kind: str = "gru", engine: str = "cudnn",
                 embed_size: int = 32, hidden_size: int = 128, score: str = "additive",
                 attention_size: int | None = None, dropout: float = 0.0):
        super().__init__()
        self.kind, self.engine, self.score_name = kind.lower(), engine, score
        H = hidden_size
        self.src_embed = nn.Embedding(src_vocab_size, embed_size)
        self.encoder = make_layer(kind, engine, embed_size, H, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)                                   # W_b, b_b
        self.score = make_score(score, H, 2 * H, attention_size or H)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embed_size)
        self.decoder = make_layer(kind, engine, embed_size, H)
        self.drop = nn.Dropout(dropout)                                     # on embeddings and on [s_t; c_t]
        self.head = nn.Linear(3 * H, tgt_vocab_size)                       # W_o, b_o over [s_t; c_t]

    def encode(self, src: torch.Tensor, src_lengths=None):
        """English ids (B, S) -> decoder state ``(s_0, memory (S, B, 2H), prepared keys, mask (S, B))``."""
        check_ids(src, self.src_embed, "AttentionSeq2Seq.encode")
        B, S = src.shape
        lengths = torch.full((B,), S) if src_lengths is None else torch.as_tensor(src_lengths).cpu()
        memory, state = self.encoder(self.drop(self.src_embed(src)), None, lengths)   # h_j = [→h_j; ←h_j]
        h = state[0] if isinstance(state, tuple) else state                         # (2, B, H): →h_S, ←h_1
        # s_0 = tanh(W_b [→h_S; ←h_1] + b_b)
        s_0 = torch.tanh(self.bridge(torch.cat([h[0], h[1]], -1)))[None]
        s = (s_0, torch.zeros_like(s_0)) if self.kind == "lstm" else s_0
        memory = memory.transpose(0, 1)                                             # (S, B, 2H)
        mask = (torch.arange(S)[:, None] < lengths[None]).to(src.device)            # (S, B): real positions
        return s, memory, self.score.prepare(memory), mask

    def decode_with_weights(self, tgt_in: torch.Tensor, state):
        """Like :meth:`decode`, and also the attention weights α of every step, (B, T, S)."""
        check_ids(tgt_in, self.tgt_embed, "AttentionSeq2Seq.decode")
        s, memory, prepared, mask = state
        # s_t = g(e(y_{t-1}), s_{t-1}) for every t at once
        out, s = self.decoder(self.drop(self.tgt_embed(tgt_in)), s)                # (B, T, H)
        queries = out.transpose(0, 1)                                               # (T, B, H)
        c, alpha = attend(self.score, queries, prepared, memory, mask)              # (T, B, 2H), (T, S, B)
        # W_o [s_t; c_t] + b_o
        logits = self.head(self.drop(torch.cat([queries, c], -1)))
        return logits.transpose(0, 1), (s, memory, prepared, mask), alpha.permute(2, 0, 1)

    def decode(self, tgt_in: torch.Tensor, state):
        """Chinese ids read so far (B, T) and a decoder state -> logits (B, T, V) and the next state."""
        logits, state, _ = self.decode_with_weights(tgt_in, state)
        return logits, state

    def forward(self, src: torch.Tensor, src_lengths, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits for every target position given the true previous tokens."""
        return self.decode(tgt_in, self.encode(src, src_lengths))[0]


@torch.no_grad()
def attention_map(model: AttentionSeq2Seq, src_vocab, tgt_vocab, text: str, output: str):
    """The weights α_tj with which ``model`` reads ``text`` while writing ``output`` (teacher-forced).

    Returns (English tokens, Chinese tokens + "<eos>", weights as a (T, S) CPU tensor; rows sum to 1).
    """
    from ..data.parallel import tokenize_en, tokenize_zh
    from ..settings import device_of

    if not isinstance(model, AttentionSeq2Seq):
        raise TypeError(f"attention_map: expected an AttentionSeq2Seq; got {type(model).__name__} (a model "
                        "without attention has no weights to show)")
    src_tokens, tgt_tokens = tokenize_en(text), tokenize_zh(output)
    if not src_tokens:
        raise ValueError("attention_map: the English text has no tokens")
    model.eval()
    dev = device_of(model)
    src = torch.tensor([src_vocab.encode(src_tokens)], device=dev)
    tgt_in = torch.tensor([[tgt_vocab.bos_id] + tgt_vocab.encode(tgt_tokens)], device=dev)
    _, _, weights = model.decode_with_weights(tgt_in, model.encode(src, torch.tensor([len(src_tokens)])))
    return src_tokens, tgt_tokens + ["<eos>"], weights[0].cpu()
