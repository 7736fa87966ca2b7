"""How the portal receives uploaded files (bulk metadata and FASTA): straight to a temporary file on disk.

Django's parser reads the request in the smallest chunk size of all its upload handlers; with the
default in-memory handler that is 64 KiB, and each read costs the WSGI server a copy of its buffer.
One handler with 1 MiB chunks receives a gigabyte several times faster, and never in memory.
"""

from __future__ import annotations

from django.core.files.uploadhandler import TemporaryFileUploadHandler


class LargeChunkTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    chunk_size = 1024 * 1024
