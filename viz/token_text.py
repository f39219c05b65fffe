"""How a token's text is shown: whitespace made visible, control bytes named."""

from __future__ import annotations

_VISIBLE = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}


def visible_text(text: str) -> str:
    """Make whitespace and control characters visible: ' ' → ·, '\\n' → ↵, '\\t' → ⇥.

    Other control characters become their ``\\xNN`` escape; an empty string becomes ∅.
    """
    if not text:
        return "∅"
    out = []
    for ch in text:
        if ch in _VISIBLE:
            out.append(_VISIBLE[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)
