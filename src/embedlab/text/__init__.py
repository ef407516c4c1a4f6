"""Text to integer ids, outside the model graph: tokenizer, vocabulary, encoder.

Numpy and pyarrow only (no Keras, no JAX), so encoding stays cheap to import and fast:
whole-column Arrow kernels on a thread pool.
"""

from embedlab.text.encoder import TextEncoder
from embedlab.text.tokenize import tokenize
from embedlab.text.vocabulary import PAD, PAD_ID, UNK, UNK_ID, Vocabulary

__all__ = ["PAD", "PAD_ID", "UNK", "UNK_ID", "TextEncoder", "Vocabulary", "tokenize"]
