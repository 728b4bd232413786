"""Read one input file (config, scenario, suppressions, playbook) as text, or refuse it in one line.

Every input file goes through `read_text`: it must be a regular file (a folder, a FIFO or a device is
refused before anything blocks on it), at most `MAX_INPUT_BYTES` long, and UTF-8 text without NUL bytes.
Each refusal is a UsageError that names the file, the line of a bad byte, and the fix.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from infradiag.errors import UsageError

MIB = 1024 * 1024
MAX_INPUT_BYTES = 64 * MIB

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def read_text(path: Path, what: str = "file", missing_fix: str = "check the path") -> str:
    """The whole text of `path` (a leading byte-order mark dropped). Anything but a readable regular file
    of at most MAX_INPUT_BYTES bytes of UTF-8 text is a UsageError naming `path` and the fix."""
    data = _read_bytes(path, what, missing_fix)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line(data, exc.start)
        raise UsageError(
            f"{path}:{line}",
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {_column(data, exc.start)}",
            "save the file as UTF-8",
        ) from None
    nul = data.find(b"\x00")  # valid UTF-8, but no text format here allows it
    if nul >= 0:
        line = _line(data, nul)
        raise UsageError(
            f"{path}:{line}",
            f"not UTF-8 text: a NUL byte at line {line}, column {_column(data, nul)} (a binary file?)",
            f"pass the {what} itself, saved as UTF-8 text",
        )
    return text.removeprefix("\ufeff")


def _read_bytes(path: Path, what: str, missing_fix: str) -> bytes:
    try:
        # Non-blocking, so that opening a FIFO with no writer returns at once (and is then refused) instead
        # of hanging; regular files ignore the flag.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(str(path), f"{what} not found", missing_fix) from None
    except PermissionError:
        if path.is_dir():  # Windows refuses to open a folder rather than to read it
            raise _folder(path, what) from None
        raise UsageError(
            str(path), f"cannot read the {what} (permission denied)", "make it readable, e.g. chmod u+r"
        ) from None
    except OSError as exc:
        raise UsageError(str(path), f"cannot open the {what} ({exc.strerror})", missing_fix) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _folder(path, what)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
            raise UsageError(
                str(path), f"is {kind}, not a regular file", "copy it to a regular file and pass that"
            )
        if info.st_size > MAX_INPUT_BYTES:
            raise _too_big(path, what, info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise UsageError(str(path), f"cannot read the {what} ({exc.strerror})", missing_fix) from None
    finally:
        os.close(fd)
    if len(data) > MAX_INPUT_BYTES:  # it grew after the size check
        raise _too_big(path, what, len(data))
    return data


def _folder(path: Path, what: str) -> UsageError:
    return UsageError(str(path), f"is a folder, not a {what}", f"pass the path of the {what} inside it")


def _too_big(path: Path, what: str, size: int) -> UsageError:
    return UsageError(
        str(path),
        f"{size / MIB:.1f} MiB is over the {MAX_INPUT_BYTES // MIB} MiB limit for an input file",
        f"split the {what} or leave out what it does not need",
    )


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _column(data: bytes, offset: int) -> int:
    return offset - (data.rfind(b"\n", 0, offset) + 1) + 1
