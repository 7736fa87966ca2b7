"""The file-name rules Loculus applies at submit (FileMappingPreconditionValidator), checked before upload.

A name Loculus would refuse is refused here, with the same rule in words, so nobody uploads a
gigabyte only to be told at submit that the name has a space in it.
"""

from __future__ import annotations

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
