"""Attention (注意力机制): the decoder looks at every encoder state instead of only the last one.

A bidirectional encoder turns the English tokens x_1..x_S into annotations h_j = [→h_j; ←h_j]. Before
writing target step t, the decoder scores every annotation against its previous state s_{t-1},
turns the scores into weights with a softmax over the REAL source positions, and reads their
weighted mean, the context c_t (Bahdanau, Cho & Bengio 2015):

    score        e_tj = v^T tanh(W_q s_{t-1} + W_k h_j)        additive (Bahdanau 2015)
                 e_tj = s_{t-1}^T W h_j                         multiplicative, "general" (Luong 2015)
    weights      α_tj = exp(e_tj) / Σ_{k: real} exp(e_tk)       0 on padded positions, exactly
    context      c_t  = Σ_j α_tj h_j
    decoder      s_t  = g([e(y_{t-1}); c_t], s_{t-1}),          s_0 = tanh(W_b [→h_S; ←h_1])
    output       P(y_t | y_<t, x) = softmax(W_o [s_t; c_t] + b_o)

:class:`AttentionSeq2Seq` has the interface of :class:`rnn_book.tasks.seq2seq.Seq2Seq` (``encode``,
``decode``, ``forward``), so greedy search, beam search and evaluation work on both unchanged.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import make_layer
from .seq2seq import check_ids

SCORES = ("additive", "multiplicative")


class AdditiveScore(nn.Module):
    """e_tj = v^T tanh(W_q q_t + W_k h_j): a one-hidden-layer network scores each (query, key) pair."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """W_k h_j for every source position, once per sentence: (S, B, K) -> (S, B, A)."""
        return self.W_k(keys)

    def forward(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        """query (B, Q), prepared keys (S, B, A) -> scores (S, B)."""
        # e_tj = v^T tanh(W_q s_{t-1} + W_k h_j)
        return self.v(torch.tanh(self.W_q(query)[None] + prepared)).squeeze(-1)


class MultiplicativeScore(nn.Module):
    """e_tj = q_t^T W h_j (Luong's "general" score): one bilinear form, no hidden layer."""

    def __init__(self, query_size: int, key_size: int, attention_size: int | None = None):
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """W h_j for every source position, once per sentence: (S, B, K) -> (S, B, Q)."""
        return self.W(keys)

    def forward(self, query: torch.Tensor, prepared: torch.Tensor) -> torch.Tensor:
        """query (B, Q), prepared keys (S, B, Q) -> scores (S, B)."""
        # e_tj = s_{t-1}^T W h_j
        return (prepared * query[None]).sum(-1)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Softmax of ``scores`` over ``dim`` among the positions where ``mask`` is True; exactly 0 elsewhere."""
    if scores.shape != mask.shape:
        raise ValueError(f"masked_softmax: expected scores and mask of one shape; got {tuple(scores.shape)} "
                         f"and {tuple(mask.shape)}")
    if not bool(mask.any(dim).all()):
        raise ValueError("masked_softmax: a sentence with no real position has nothing to attend to")
    # α_tj = exp(e_tj) / Σ_{k: real} exp(e_tk); exp(-inf) = 0 on padding
    return scores.masked_fill(~mask, float("-inf")).softmax(dim)


def attend(score: nn.Module, query: torch.Tensor, prepared: torch.Tensor, values: torch.Tensor,
           mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One attention read: (context (B, K), weights (S, B)) for query (B, Q) over values (S, B, K)."""
    e = score(query, prepared)                            # e_tj, (S, B)
    alpha = masked_softmax(e, mask)                       # α_tj, (S, B)
    # c_t = Σ_j α_tj h_j
    context = (alpha[..., None] * values).sum(0)
    return context, alpha


def make_score(name: str, query_size: int, key_size: int, attention_size: int) -> nn.Module:
    if name not in SCORES:
        raise ValueError(f"make_score: score must be one of {SCORES}; got {name!r}")
    cls = AdditiveScore if name == "additive" else MultiplicativeScore
    return cls(query_size, key_size, attention_size)


class AttentionSeq2Seq(nn.Module):
    """Bidirectional encoder, attention, and a decoder that reads [e(y_{t-1}); c_t] one step at a time.

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
        self.bridge = nn.Linear(2 * H, H)                                   # W_b
        self.score = make_score(score, H, 2 * H, attention_size or H)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embed_size)
        self.decoder = make_layer(kind, engine, embed_size + 2 * H, H)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(3 * H, tgt_vocab_size)                       # W_o over [s_t; c_t]

    def encode(self, src: torch.Tensor, src_lengths=None):
        """English ids (B, S) -> decoder state ``(s_0, memory (S, B, 2H), prepared keys, mask (S, B))``."""
        check_ids(src, self.src_embed, "AttentionSeq2Seq.encode")
        B, S = src.shape
        lengths = torch.full((B,), S) if src_lengths is None else torch.as_tensor(src_lengths).cpu()
        memory, state = self.encoder(self.drop(self.src_embed(src)), None, lengths)   # h_j = [→h_j; ←h_j]
        h = state[0] if isinstance(state, tuple) else state                         # (2, B, H): →h_S, ←h_1
        # s_0 = tanh(W_b [→h_S; ←h_1])
        s0 = torch.tanh(self.bridge(torch.cat([h[0], h[1]], -1)))[None]
        s = (s0, torch.zeros_like(s0)) if self.kind == "lstm" else s0
        memory = memory.transpose(0, 1)                                             # (S, B, 2H)
        mask = (torch.arange(S)[:, None] < lengths[None]).to(src.device)            # (S, B): real positions
        return s, memory, self.score.prepare(memory), mask

    def decode_with_weights(self, tgt_in: torch.Tensor, state):
        """Like :meth:`decode`, and also the attention weights of every step, (B, T, S)."""
        check_ids(tgt_in, self.tgt_embed, "AttentionSeq2Seq.decode")
        s, memory, prepared, mask = state
        emb = self.drop(self.tgt_embed(tgt_in))
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            query = (s[0] if isinstance(s, tuple) else s)[-1]                      # s_{t-1}, (B, H)
            c, alpha = attend(self.score, query, prepared, memory, mask)
            # s_t = g([e(y_{t-1}); c_t], s_{t-1})
            out, s = self.decoder(torch.cat([emb[:, t], c], -1)[:, None], s)
            # W_o [s_t; c_t] + b_o
            logits.append(self.head(self.drop(torch.cat([out[:, 0], c], -1))))
            weights.append(alpha.T)
        return torch.stack(logits, 1), (s, memory, prepared, mask), torch.stack(weights, 1)

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
