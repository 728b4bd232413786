"""Text from outside (Google's APIs, probe bodies, configs, playbook files) shown exactly as it is.

Such text is never markup in any view: the terminal views hand it to rich as `Text` (no markup, no emoji
codes, no highlighting). Characters that would act on a terminal or a reader instead of being shown are made
visible as escapes: C0 and C1 control characters other than newline and tab (ESC, carriage return, BEL,
NUL...), DEL, the bidirectional controls (U+202E reorders what follows it), line and paragraph separators,
lone surrogates and the non-characters U+FFFE/U+FFFF. A newline becomes `\\n` too where one line is due.
"""

from __future__ import annotations

import re

from rich.text import Text

_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_INVISIBLE = re.compile(f"[{_UNSAFE}]")
_INVISIBLE_OR_NEWLINE = re.compile(f"[{_UNSAFE}\n]")
_SHORT = {"\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: str, one_line: bool = False) -> str:
    """`value` with every control, bidi and unencodable character replaced by a visible escape (`\\x1b`,
    `\\r`, `\\u202e`); newlines and tabs are kept, or newlines escaped as `\\n` with `one_line`. Everything
    else (brackets, backslashes, any printable character) is unchanged."""
    pattern = _INVISIBLE_OR_NEWLINE if one_line else _INVISIBLE
    return pattern.sub(_escape, value)


def literal(value: str, style: str = "", one_line: bool = False) -> Text:
    """A rich `Text` that prints `visible(value)` exactly: never parsed as markup or emoji codes."""
    return Text(visible(value, one_line), style=style)
