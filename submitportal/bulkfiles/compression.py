"""Opening an uploaded file as a stream of decompressed bytes, chosen by the name the user gave it.

Loculus decides the compression from the file name's last extension (`.gz`, `.zst`, `.xz`, `.bz2`,
`.zip`, `.lzma`), so we do too, and we check the content really is what the name says: a mismatch
would otherwise surface at the backend as an unexplained 500. Nothing is read whole into memory,
and two bounds keep a small "decompression bomb" from filling the disk or keeping a worker busy for
an hour: the *decompressed* bytes (`Limits.max_bytes`), and the ratio of unpacked to packed bytes
(`Limits.max_ratio`), judged as the file is read, so a bomb is refused after its first megabytes.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import zstandard

from submitportal.bulkfiles.limits import MAX_DECOMPRESSED_BYTES, Limits, resolve, short

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "UnreadableFile",
    "can_stream",
    "human_size",
    "open_decompressed",
    "open_decompressed_stream",
    "sniff_compression",
    "split_compression",
]

READ_BUFFER = 1024 * 1024
PACKED_READ = 16 * 1024

# Suffix → (compression name, the magic bytes its content starts with; None: no reliable magic).
COMPRESSIONS: dict[str, tuple[str, bytes | None]] = {
    ".gz": ("gzip", b"\x1f\x8b"),
    ".zst": ("Zstandard", b"\x28\xb5\x2f\xfd"),
    ".xz": ("xz", b"\xfd7zXZ\x00"),
    ".bz2": ("bzip2", b"BZh"),
    ".zip": ("ZIP", b"PK"),
    ".lzma": ("LZMA", None),
}

# Archive or compression formats people use that neither Loculus nor the portal can read.
UNSUPPORTED_SUFFIXES = (".rar", ".7z", ".tar", ".tgz", ".tbz2", ".txz", ".lz4", ".lz", ".br", ".z", ".cab", ".arj")

# Content that betrays a compressed file whose name says nothing about it.
_MAGIC_NAMES = [(magic, label) for label, magic in COMPRESSIONS.values() if magic] + [
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
]


class UnreadableFile(Exception):
    """The file cannot be read at all. `message` is a sentence for the user: what is wrong and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def human_size(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def split_compression(name: str) -> tuple[str, str | None]:
    """The name without its compression suffix, and that suffix (`.gz` …) or None.

    Suffixes are matched case-insensitively here although Loculus is case-sensitive: the portal
    decompresses or renames before sending, so `READS.TSV.GZ` need not be refused.
    """
    lower = name.lower()
    for suffix in COMPRESSIONS:
        if lower.endswith(suffix):
            return name[: -len(suffix)], suffix
    for suffix in UNSUPPORTED_SUFFIXES:
        if lower.endswith(suffix):
            raise UnreadableFile(
                f"“{short(name)}” is compressed or packed as {suffix}, which cannot be read here. "
                "Please compress it with gzip (.gz), Zstandard (.zst), xz (.xz), bzip2 (.bz2) or ZIP (.zip), "
                "or upload it uncompressed."
            )
    return name, None


def sniff_compression(head: bytes) -> str | None:
    """The compression format the first bytes reveal, if any."""
    return next((label for magic, label in _MAGIC_NAMES if head.startswith(magic)), None)


class _Counted(io.RawIOBase):
    """A packed file that counts the bytes read from it by the decompressor.

    Reads are cut to PACKED_READ bytes: a decompressor reads ahead of what it used (gzip 128 KiB), and
    a bomb's ratio shows only once the bytes it unpacked outweigh that read-ahead times the limit.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        with memoryview(buffer) as view:
            count = self._raw.readinto(view[:PACKED_READ]) or 0  # type: ignore[attr-defined]
        self.count += count
        return count

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _LimitedReader(io.RawIOBase):
    """Counts decompressed bytes, stops at the limits, and turns decompression errors into UnreadableFile.

    `packed` tells how many compressed bytes were read so far (None: the file is not compressed).
    """

    def __init__(
        self,
        inner: BinaryIO,
        *,
        name: str,
        limits: Limits,
        closers: list[Callable[[], None]],
        packed: Callable[[], int] | None = None,
    ) -> None:
        self._inner = inner
        self._name = name
        self._max_bytes = limits.max_bytes
        self._max_ratio = limits.max_ratio
        self._ratio_from = limits.ratio_from
        self._packed = packed
        self._closers = closers
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        try:
            count = self._inner.readinto(buffer)  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError, zipfile.BadZipFile) as exc:
            raise UnreadableFile(
                f"“{short(self._name)}” could not be decompressed: it is damaged or incomplete ({short(str(exc))}). "
                "Please compress it again, or upload it uncompressed."
            ) from None
        self.bytes_read += count or 0
        if self.bytes_read > self._max_bytes:
            raise UnreadableFile(
                f"“{short(self._name)}” unpacks to more than {human_size(self._max_bytes)}, the most the portal "
                "accepts. Please split it into several submissions."
            )
        if (
            self._packed is not None
            and self.bytes_read > self._ratio_from
            and self.bytes_read > self._max_ratio * max(self._packed(), 1)
        ):
            raise ratio_exceeded(self._name, self._max_ratio)
        return count or 0

    def close(self) -> None:
        if not self.closed:
            for close in reversed(self._closers):
                close()
        super().close()


def ratio_exceeded(name: str, max_ratio: int) -> UnreadableFile:
    return UnreadableFile(
        f"“{short(name)}” unpacks to more than {max_ratio:,} times its compressed size, far more than real "
        "metadata or sequences do, so the portal stopped reading it (it looks like a decompression bomb). "
        "If it really holds your data, please compress it with gzip (.gz) instead, or upload it uncompressed."
    )


def declared_too_large(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    """What is wrong with a ZIP member's declared sizes, if anything (the archive's directory, read before any
    unpacking; zipfile never unpacks more than a member declares).

    Returns "size" (over `max_bytes`), "ratio" (over `max_ratio`, once past `ratio_from`) or None.
    """
    if info.file_size > limits.max_bytes:
        return "size"
    if info.file_size > limits.ratio_from and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return "ratio"
    return None


def _zip_member(path: Path, name: str, limits: Limits) -> tuple[zipfile.ZipFile, BinaryIO]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise UnreadableFile(
            f"“{short(name)}” is named .zip but is not a ZIP archive. Please upload the ZIP file itself."
        ) from None
    # Loculus reads the first entry; folders and macOS's resource forks are never what was meant.
    members = [info for info in archive.infolist() if not info.is_dir() and not info.filename.startswith("__MACOSX/")]
    if not members:
        archive.close()
        raise UnreadableFile(
            f"The ZIP archive “{short(name)}” contains no file. Please put your file into it and try again."
        )
    problem = declared_too_large(members[0], limits)
    if problem is not None:
        archive.close()
        if problem == "ratio":
            raise ratio_exceeded(name, limits.max_ratio)
        raise UnreadableFile(
            f"“{short(name)}” unpacks to more than {human_size(limits.max_bytes)}, the most the portal accepts. "
            "Please split it into several submissions."
        )
    try:
        return archive, archive.open(members[0])  # type: ignore[return-value]
    except (RuntimeError, NotImplementedError, zipfile.BadZipFile, ValueError) as exc:
        archive.close()
        raise UnreadableFile(
            f"The file inside “{short(name)}” cannot be unpacked ({short(str(exc))}). "
            "Please make a ZIP archive without password or unusual compression, or upload the file uncompressed."
        ) from None


def can_stream(name: str) -> bool:
    """Whether a file of this name can be read front to back as it arrives: all but ZIP archives.

    A ZIP archive's directory is at its end, so its member can be found only once the file is whole.
    """
    try:
        return split_compression(name)[1] != ".zip"
    except UnreadableFile:
        return True  # the stream entry point says what is wrong with the name


def open_decompressed(
    path: str | Path, name: str, *, max_bytes: int | None = None, limits: Limits | None = None
) -> io.BufferedReader:
    """The file at `path`, decompressed as the user's file name `name` says, as a buffered binary stream.

    Close it (or use it in a `with`). Raises UnreadableFile when the name and content disagree; reading
    raises it when the content is damaged, unpacks to more than `limits.max_bytes` (`max_bytes`, if
    given) or to more than `limits.max_ratio` times the compressed bytes read.
    """
    limits = resolve(limits, max_bytes)
    path = Path(path)
    _, suffix = split_compression(name)
    raw: BinaryIO = open(path, "rb")  # closed by the _LimitedReader
    try:
        head = raw.read(8)
        raw.seek(0)
        packed: Callable[[], int] | None = None
        if suffix == ".zip":
            _check_head(head, name, suffix)
            raw.close()
            # The member's declared sizes bound what zipfile unpacks, and are checked before it starts.
            archive, inner = _zip_member(path, name, limits)
            closers: list[Callable[[], None]] = [archive.close, inner.close]
        elif suffix is None:
            inner, closers = raw, [raw.close]
        else:
            counted = _Counted(raw)
            inner, closers = _decompressing(counted, head, name, suffix)
            packed = lambda: counted.count  # noqa: E731 - read by the _LimitedReader at each step
    except BaseException:
        raw.close()
        raise
    reader = _LimitedReader(inner, name=name, limits=limits, closers=closers, packed=packed)
    return io.BufferedReader(reader, READ_BUFFER)


def open_decompressed_stream(
    raw: BinaryIO, name: str, *, max_bytes: int | None = None, limits: Limits | None = None
) -> io.BufferedReader:
    """Like `open_decompressed`, for a stream read once from its start (e.g. a file still being written).

    Only reads, never seeks. Takes `raw` over: closing the result closes it. Not for ZIP archives
    (see `can_stream`). The same errors as `open_decompressed`, at the same points.
    """
    limits = resolve(limits, max_bytes)
    _, suffix = split_compression(name)
    if suffix == ".zip":
        raise ValueError(f"{short(name)}: a ZIP archive cannot be read as a stream")
    try:
        head = b""
        while len(head) < 8 and (more := raw.read(8 - len(head))):
            head += more
        prefixed = _Prefixed(head, raw)
        counted = _Counted(prefixed) if suffix is not None else None  # type: ignore[arg-type]
        inner, closers = _decompressing(counted or prefixed, head, name, suffix)  # type: ignore[arg-type]
    except BaseException:
        raw.close()
        raise
    packed = None if counted is None else (lambda: counted.count)
    reader = _LimitedReader(inner, name=name, limits=limits, closers=closers, packed=packed)
    return io.BufferedReader(reader, READ_BUFFER)


class _Prefixed(io.RawIOBase):
    """`head` (bytes already read off `raw` to look at them), then the rest of `raw`."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = memoryview(head)
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        return self._raw.readinto(buffer) or 0  # type: ignore[attr-defined]

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _check_head(head: bytes, name: str, suffix: str) -> None:
    label, magic = COMPRESSIONS[suffix]
    if not head:
        raise UnreadableFile(f"“{short(name)}” is empty. Please choose the file that holds your data.")
    if magic is not None and not head.startswith(magic):
        actual = sniff_compression(head)
        hint = f"it looks {actual}-compressed" if actual else "its content is not compressed that way"
        raise UnreadableFile(
            f"“{short(name)}” is named {suffix} but is not {label}-compressed ({hint}). "
            f"Please compress it with {label}, or rename it to match its content."
        )


def _decompressing(
    raw: BinaryIO, head: bytes, name: str, suffix: str | None
) -> tuple[BinaryIO, list[Callable[[], None]]]:
    """`raw` decompressed as `suffix` says (not ZIP), and what closes it; `head`: its first bytes."""
    if suffix is None:
        return raw, [raw.close]
    _check_head(head, name, suffix)
    inner: BinaryIO
    if suffix == ".gz":
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif suffix == ".zst":
        # Several frames one after another (pzstd, concatenated files) are one file to the user.
        inner = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[assignment]
    elif suffix in (".xz", ".lzma"):
        inner = lzma.LZMAFile(raw)  # type: ignore[assignment]
    else:
        inner = bz2.BZ2File(raw)  # type: ignore[assignment]
    return inner, [raw.close, inner.close]
