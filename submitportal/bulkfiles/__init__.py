"""Reading and checking bulk-submission files: plain Python, no Django, streaming throughout.

The organism schema comes from submitportal.loculus.schema, never from loculus.instance (which fetches
and caches with Django and requests); tests/test_no_django_in_parsing.py imports every module here
with both made unimportable.

compression  open an upload as decompressed bytes, chosen by its name (.gz .zst .xz .bz2 .zip .lzma)
metadata     the metadata table (TSV, CSV, XLSX, XLS) as a stream of rows
field_checks one value of one field (dates, options) as the pipeline judges it; shared with the form
fasta        the FASTA file as a stream of (id, line, length)
fasta_summary  what the check keeps of a FASTA (IDs, header lines, problems of its own): read once, as it arrives
filerefs     the entries of files.<category> cells: name, name::path, name:fileId
validate     every check, in one pass over each file → report.Report; or per file (check_metadata,
             fasta_summary) and then combine
rewrite      the metadata TSV the backend receives, with the files.* cells the caller supplies
template     the metadata template (TSV and XLSX) for an organism
"""
