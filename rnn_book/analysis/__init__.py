"""Experiments on the models: backpropagation through time (bptt), gradients over time (gradients),
long-range memory (memory), looking inside an LSTM (lstm_probes), side-by-side comparisons (compare),
overfitting (regularize), tuning (tuning), deep and bidirectional networks (deep), and speed (bench, flops)."""
