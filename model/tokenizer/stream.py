"""TextStream: generated token ids as text, a whole character at a time.

A multi-byte character (猫 is three bytes) may come in byte tokens: printing each as it
arrives would show replacement characters, and a run that stops between them would end
in one. The stream holds a character's first bytes back until its last arrives, never
prints a stop token (``<|im_end|>`` ends the answer, it is not part of it), and says how
many bytes of an unfinished character it kept back at the end.
"""

from __future__ import annotations

import codecs

from llamalens.model.tokenizer.core import Tokenizer


class TextStream:
    """Feed ids with :meth:`push`; each call returns the text that is complete so far."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        # "replace": bytes that can never make a character show as U+FFFD at once; bytes
        # that may still become one wait in the decoder
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.stopped = False
        self.text = ""

    def push(self, token_id: int) -> str:
        """The new complete text after ``token_id`` ("" for a stop token or a partial
        character)."""
        if token_id in self.tokenizer.stop_ids:
            self.stopped = True
            return ""
        piece = self._decoder.decode(self.tokenizer.token(token_id).bytes)
        self.text += piece
        return piece

    def held_back(self) -> int:
        """Bytes of an unfinished character not shown (a run that ended inside one)."""
        return len(self._decoder.getstate()[0])


def stream_text(tokenizer: Tokenizer, ids: list[int]) -> tuple[str, int]:
    """The text of generated ``ids`` as :class:`TextStream` shows it, and the bytes held back."""
    stream = TextStream(tokenizer)
    for token_id in ids:
        stream.push(token_id)
    return stream.text, stream.held_back()
