"""The source's applications: character language models and text generation (lm, ngram, sampling,
textgen_report), translation (seq2seq, beam, bleu, translation), stock prices (stocks), and speech
(audio, ctc, speech)."""
