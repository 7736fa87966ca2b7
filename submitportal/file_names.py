"""The file-name rules Loculus applies at submit (FileMappingPreconditionValidator), checked before upload.

A name Loculus would refuse is refused here, with the same rule in words, so nobody uploads a
gigabyte only to be told at submit that the name has a space in it.
"""

from __future__ import annotations

import re

FORBIDDEN_CHARACTERS = '<>:"/\\|?*'
MAX_LENGTH = 255


def problem_with(name: str) -> str | None:
    """Why Loculus would refuse this file name, as a sentence; None if it is fine."""
    if not name:
        return "File names may not be empty."
    if len(name) > MAX_LENGTH:
        return f"File names may not be longer than {MAX_LENGTH} characters (this one has {len(name)})."
    if any(char in FORBIDDEN_CHARACTERS for char in name):
        return 'File names may not contain any of these characters: < > : " / \\ | ? *'
    if any(ord(char) < 32 for char in name):
        return "File names may not contain control characters."
    if any(char.isspace() for char in name):
        return "File names may not contain spaces or other whitespace."
    return None


def is_hidden(path: str) -> bool:
    """Dot-files such as .DS_Store, and anything inside a dot-folder, are skipped (as the website does)."""
    return any(part.startswith(".") for part in path.split("/") if part not in ("", ".", ".."))


_NUMBERS = re.compile(r"([0-9]+)")


def path_order(path: str) -> tuple[list[list[tuple[int, int, str]]], str]:
    """The order in which file rows are listed: by folder, then name, numbers by value (s2 before s10),
    letters without regard to case. static/js/extra_file_uploads.js (`pathKey`) orders the rows it adds the same way.
    """
    segments = []
    for segment in path.split("/"):
        tokens = []
        for token in filter(None, _NUMBERS.split(segment)):
            if _NUMBERS.fullmatch(token):
                digits = token.lstrip("0")
                tokens.append((0, len(digits), digits))
            else:
                tokens.append((1, 0, token.lower()))
        segments.append(tokens)
    return segments, path
