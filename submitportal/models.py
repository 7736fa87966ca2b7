"""What the portal keeps in its own database. Loculus keeps everything else."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models


class TokenSet(models.Model):
    """A signed-in browser session's Loculus tokens. They never leave the server.

    One row per portal session (each has its own Keycloak session and refresh token). `generation`
    counts refreshes; a refresh happens under a lock on this row (see signin.access_token), so a
    stale request can never overwrite a newer token.
    """

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="loculus_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_sets")
    access_token = models.TextField()
    access_expires_at = models.DateTimeField()
    refresh_token = models.TextField(blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    id_token = models.TextField(blank=True)
    signed_in_at = models.DateTimeField(auto_now_add=True)
    generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:  # never the tokens themselves
        return f"tokens of {self.user} (generation {self.generation})"


class GroupChoice(models.Model):
    """The submitting group a user last chose for an organism."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_choices")
    organism = models.CharField(max_length=200)
    group_id = models.IntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organism"], name="one_group_choice_per_organism")]

    def __str__(self) -> str:
        return f"{self.user} submits {self.organism} as group {self.group_id}"


class Draft(models.Model):
    """A submission in progress, owned by one user. Nothing here is sent until the user submits.

    Each part of a draft lives in its own place, so that requests changing different parts at the
    same time (autosave, a file check, a group change, extra files) never write over each other:
    the typed values here, the bulk data files as `BulkFile` rows, their check as one `BulkCheck`,
    the extra files as `ExtraFile` rows. Every change locks the draft first (`drafts.changing`).
    """

    class Kind(models.TextChoices):
        FORM = "form", "Single entry"
        BULK = "bulk", "Bulk upload"
        EDIT = "edit", "Edit of an entry"
        # Not a draft to fill in: the record of revocations sent, so that they are seen as a batch.
        REVOCATION = "revocation", "Revocation"

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        SUBMITTING = "submitting", "Being submitted"
        SUBMITTED = "submitted", "Submitted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    organism = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    group_id = models.IntegerField(null=True, blank=True)
    # What the user typed: the form's fields and sequences, the data use terms and confirmations.
    values = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    result = models.JSONField(null=True, blank=True)
    # Sent to /revise, not /submit: new versions of released accessions (a bulk draft whose metadata has
    # an `accession` column, or an EDIT draft of a released entry). Revisions keep their data use terms.
    revise = models.BooleanField(default=False)
    # An edit draft's entry in Loculus (kind EDIT only): what the edit replaces, or a revision revises.
    accession = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    # A submit got no answer in time: before sending again, ask Loculus what it already has.
    unclear_submit_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} draft of {self.user} for {self.organism}"

    @property
    def kind_words(self) -> str:
        """What My drafts calls this kind of draft: a revise draft is a revision, not a submission."""
        if self.revise:
            return "Bulk revision" if self.kind == self.Kind.BULK else "Revision of an entry"
        return str(self.get_kind_display())


class BulkFile(models.Model):
    """A bulk draft's metadata or sequence file: at most one of each kind, replaced whole.

    `stored` is the file's name in the draft storage, new for every file received, so it also
    names this version of the draft's file: a check is valid for exactly the names it read.
    """

    class Kind(models.TextChoices):
        METADATA = "metadata", "Metadata file"
        SEQUENCES = "sequences", "Sequence file"

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="bulk_files")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=1024)  # as the user's file was called
    stored = models.CharField(max_length=1024, unique=True)
    size = models.BigIntegerField()
    # A sequence file's summary (bulkfiles.fasta_summary), stored beside it: what its check needs.
    summary = models.CharField(max_length=1024, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["draft", "kind"], name="one_bulk_file_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class BulkCheck(models.Model):
    """The check of a bulk draft's data files, for exactly the stored files it read (one per draft).

    A check runs without holding the draft's lock and is kept only if the draft still has the files
    it read; the page never shows a verdict about files the draft no longer has.
    """

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="bulk_check")
    metadata = models.CharField(max_length=1024)  # BulkFile.stored of the files checked
    sequences = models.CharField(max_length=1024, blank=True)
    # What the page shows: counts and the first problems, or {"unreadable": message}.
    summary = models.JSONField()
    # For linking extra files (absent if the metadata could not be read): entry IDs in file order,
    # the files.<category> references per entry, and which categories have a column.
    entries = models.JSONField(null=True, blank=True)
    file_refs = models.JSONField(null=True, blank=True)
    files_columns = models.JSONField(null=True, blank=True)
    # The metadata as the backend receives it when no extra files are linked, written at the check.
    backend_metadata = models.CharField(max_length=1024, blank=True)
    backend_columns = models.JSONField(default=list, blank=True)
    # A revision's accessions as checked against Loculus (bulk.py): {"group": the draft's group then,
    # "rows": the accession of each row, "unchecked": why Loculus could not be asked ("" if it was)}.
    accessions = models.JSONField(null=True, blank=True)
    checked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"check of {self.metadata} and {self.sequences or 'no sequences'}"


class ExtraFile(models.Model):
    """One extra file of a draft: the upload URLs Loculus handed out, and how far the upload got."""

    class Method(models.TextChoices):
        SINGLE = "single", "Single PUT"
        MULTIPART = "multipart", "Multipart"

    class Status(models.TextChoices):
        PENDING = "pending", "Uploading"
        UPLOADED = "uploaded", "Uploaded"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="extra_files")
    category = models.CharField(max_length=200)
    path = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    group_id = models.IntegerField(null=True, blank=True)
    file_id = models.CharField(max_length=36, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)
    urls = models.JSONField(default=list, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    part_size = models.BigIntegerField(null=True, blank=True)
    urls_expire_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category", "path"]
        constraints = [models.UniqueConstraint(fields=["draft", "category", "path"], name="one_file_per_path")]

    def __str__(self) -> str:
        return f"{self.category}/{self.path} ({self.status})"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def kept(self) -> bool:
        """Already attached to the entry an edit draft changes: it has a file ID, and nothing to upload."""
        return self.status == self.Status.UPLOADED and not self.method
