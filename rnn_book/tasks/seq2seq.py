"""An encoder–decoder (seq2seq) for translation, built on either engine's recurrent layer.

The encoder reads the English tokens and hands over its final state, one fixed-size vector per
layer; the decoder starts from that state and, at every step, also sees the encoder's top-layer
final state as a *context* c next to the previous Chinese token (Cho et al. 2014):

    encoder:  h_t = f(e(x_t), h_{t-1})                 c = h_S (top layer)
    decoder:  s_t = g([e(y_{t-1}); c], s_{t-1})        s_0 = h_S
              P(y_t | y_<t, x) = softmax(W_o s_t + b_o)

Training uses teacher forcing: the decoder reads the true previous token y_{t-1}, not its own guess.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .. import make_layer
from .beam import Hypothesis, beam_search, greedy_search
from .bleu import corpus_bleu
from ..data.parallel import Batch, Pair, collate, tokenize_en
from ..data.vocab import SPECIALS, Vocab

BOS_ID = SPECIALS.index("<bos>")
from ..settings import device_of


def check_ids(ids: torch.Tensor, embed: nn.Embedding, who: str) -> None:
    """Token ids must be an int64 (batch, time) tensor with every id inside the embedding's vocabulary."""
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.dim() != 2:
        got = f"{ids.dtype} of shape {tuple(ids.shape)}" if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise TypeError(f"{who}: expected token ids, an int64 tensor of shape (batch, time); got {got}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= embed.num_embeddings):
        raise ValueError(f"{who}: token ids must lie in 0..{embed.num_embeddings - 1}; "
                         f"got {int(ids.min())}..{int(ids.max())}")


class Seq2Seq(nn.Module):
    """Embedding -> encoder RNN -> (state, context) -> decoder RNN -> linear head over the Chinese vocabulary."""

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, kind: str = "gru", engine: str = "cudnn",
                 embed_size: int = 32, hidden_size: int = 128, num_layers: int = 1, dropout: float = 0.0,
                 reverse_source: bool = False, **layer_kwargs):
        super().__init__()
        self.kind, self.engine, self.reverse_source = kind.lower(), engine, bool(reverse_source)
        layer_dropout = dropout if num_layers > 1 else 0.0     # between stacked layers only
        self.src_embed = nn.Embedding(src_vocab_size, embed_size)
        self.encoder = make_layer(kind, engine, embed_size, hidden_size, num_layers=num_layers, dropout=layer_dropout,
                                  **layer_kwargs)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embed_size)
        self.decoder = make_layer(kind, engine, embed_size + hidden_size, hidden_size, num_layers=num_layers,
                                  dropout=layer_dropout, **layer_kwargs)
        self.drop = nn.Dropout(dropout)          # on embeddings and on s_t before the head (and between layers)
        self.head = nn.Linear(hidden_size, tgt_vocab_size)

    def encode(self, src: torch.Tensor, src_lengths=None):
        """English ids (B, S) -> decoder state ``(s_0, c)``; every tensor in it has the batch on dim 1."""
        check_ids(src, self.src_embed, "Seq2Seq.encode")
        if self.reverse_source:
            src = reverse_within_lengths(src, src_lengths)
        _, state = self.encoder(self.drop(self.src_embed(src)), None, src_lengths)   # state at each sentence's own end
        h = state[0] if isinstance(state, tuple) else state
        context = h[-1:]                                                   # (1, B, H): c = h_S, top layer
        return state, context

    def decode(self, tgt_in: torch.Tensor, state):
        """Chinese ids read so far (B, T) and a decoder state -> logits (B, T, V) and the next state."""
        check_ids(tgt_in, self.tgt_embed, "Seq2Seq.decode")
        s, context = state
        T = tgt_in.shape[1]
        x = torch.cat([self.drop(self.tgt_embed(tgt_in)), context.transpose(0, 1).expand(-1, T, -1)], dim=-1)  # [e(y); c]
        out, s = self.decoder(x, s)                                                                # s_t
        return self.head(self.drop(out)), (s, context)                                                      # W_o s_t + b_o

    def forward(self, src: torch.Tensor, src_lengths, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits for every target position in one pass over the true previous tokens."""
        return self.decode(tgt_in, self.encode(src, src_lengths))[0]


def reverse_within_lengths(ids: torch.Tensor, lengths=None) -> torch.Tensor:
    """Reverse each row's first ``lengths[b]`` tokens, leaving the padding where it is (Sutskever et al. 2014)."""
    B, S = ids.shape
    if lengths is None:
        return ids.flip(1)
    n = torch.as_tensor(lengths, device=ids.device).reshape(B, 1)
    t = torch.arange(S, device=ids.device).expand(B, S)
    return ids.gather(1, torch.where(t < n, n - 1 - t, t))


def masked_cross_entropy(logits: torch.Tensor, target: torch.Tensor, pad_id: int = 0) -> torch.Tensor:
    """Mean of -log P(y_t) over the REAL target tokens only; padding positions contribute exactly nothing.

    Averaging over all B*T positions instead would let the amount of padding in a batch change the loss.
    """
    if logits.dim() != 3 or target.shape != logits.shape[:2]:
        raise ValueError(f"masked_cross_entropy: expected logits (B, T, V) and target (B, T); "
                         f"got {tuple(logits.shape)} and {tuple(target.shape)}")
    mask = target != pad_id                                                   # (B, T): 1 on real tokens
    if not bool(mask.any()):
        raise ValueError("masked_cross_entropy: every target position is padding; nothing to learn from")
    nll = -logits[mask].log_softmax(-1).gather(-1, target[mask][:, None])    # only the real positions
    return nll.mean()


def teacher_forcing_loss(model: Seq2Seq, batch: Batch, pad_id: int = 0) -> torch.Tensor:
    """The loss ``fit`` minimises: masked cross-entropy of the decoder's predictions under teacher forcing."""
    return masked_cross_entropy(model(batch.src, batch.src_lengths, batch.tgt_in), batch.tgt_out, pad_id)


NEVER_WRITTEN = (Vocab.pad_id, Vocab.unk_id, BOS_ID)   # a translation holds no padding, <unk> or <bos>


def decoder_step(model: Seq2Seq):
    """``step(tokens, state) -> (log_probs, state)``: one decoder step, in the form :mod:`rnn_book.tasks.beam` drives.

    The special tokens a translation never contains get probability 0 (the rest is renormalised).
    """
    def step(tokens: torch.Tensor, state):
        logits, state = model.decode(tokens[:, None], state)
        logits = logits[:, -1].clone()
        logits[:, list(NEVER_WRITTEN)] = float("-inf")
        return logits.log_softmax(-1), state
    return step


def max_target_len(src_len: int) -> int:
    """A generous cap on the output length (the longest targets here are about as long as the input)."""
    return 2 * src_len + 10


@torch.no_grad()
def greedy_translate(model: Seq2Seq, texts: Sequence[str], src_vocab: Vocab, tgt_vocab: Vocab,
                     batch_size: int = 512) -> list[str]:
    """Translate many English strings at once with greedy decoding."""
    model.eval()
    dev, out = device_of(model), []
    for i in range(0, len(texts), batch_size):
        chunk = texts[i:i + batch_size]
        src = [src_vocab.encode(tokenize_en(t)) or [src_vocab.unk_id] for t in chunk]
        lengths = torch.tensor([len(s) for s in src])
        ids = torch.zeros(len(src), int(lengths.max()), dtype=torch.long)
        for j, s in enumerate(src):
            ids[j, :len(s)] = torch.tensor(s)
        state = model.encode(ids.to(dev), lengths)
        hyps = greedy_search(decoder_step(model), state, len(src), tgt_vocab.bos_id, tgt_vocab.eos_id,
                             max_target_len(int(lengths.max())), device=dev)
        # each sentence stops at its OWN length cap, as beam_translate would (rows of a batch do not interact)
        out += [tgt_vocab.decode(h.tokens[:max_target_len(len(s))]) for h, s in zip(hyps, src)]
    return out


@torch.no_grad()
def beam_translate(model: Seq2Seq, text: str, src_vocab: Vocab, tgt_vocab: Vocab, width: int = 4,
                   alpha: float = 0.0) -> list[tuple[str, float]]:
    """One English string -> up to ``width`` (Chinese, log-probability) candidates, best first."""
    model.eval()
    dev = device_of(model)
    src = src_vocab.encode(tokenize_en(text)) or [src_vocab.unk_id]
    state = model.encode(torch.tensor([src], device=dev), torch.tensor([len(src)]))
    hyps: list[Hypothesis] = beam_search(decoder_step(model), state, tgt_vocab.bos_id, tgt_vocab.eos_id, width,
                                         max_target_len(len(src)), alpha=alpha, device=dev)
    return [(tgt_vocab.decode(h.tokens), h.score) for h in hyps]


def evaluate(model: Seq2Seq, pairs: Sequence[Pair], src_vocab: Vocab, tgt_vocab: Vocab) -> dict:
    """Exact-match accuracy and character BLEU of greedy translations of ``pairs``; also the predictions."""
    if not pairs:
        raise ValueError("evaluate: expected at least one pair; got none")
    pred = greedy_translate(model, [p.en for p in pairs], src_vocab, tgt_vocab)
    exact = sum(p == q.zh for p, q in zip(pred, pairs)) / len(pairs)
    return {"exact": exact, "bleu": corpus_bleu([list(p) for p in pred], [list(q.zh) for q in pairs]),
            "predictions": pred}


__all__ = ["Seq2Seq", "masked_cross_entropy", "teacher_forcing_loss", "decoder_step", "greedy_translate",
           "beam_translate", "evaluate", "collate"]
