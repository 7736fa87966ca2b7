"""What the portal keeps in its own database. Loculus keeps everything else."""

from __future__ import annotations

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
