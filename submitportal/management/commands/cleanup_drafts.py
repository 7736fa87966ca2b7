"""`manage.py cleanup_drafts [--days N]`: remove drafts (and their stored files) untouched for that long.

N defaults to DRAFT_RETENTION_DAYS (30), which My drafts tells users. Drafts nobody put anything
into (a form opened and left) go after a day.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from submitportal import drafts


class Command(BaseCommand):
    help = (
        "Remove drafts, submitted or not, that nobody has touched for --days days (default DRAFT_RETENTION_DAYS), "
        "with their files, and drafts nobody put anything into after a day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=settings.DRAFT_RETENTION_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            self.stderr.write("--days must be at least 1.")
            raise SystemExit(2)
        removed = drafts.remove_older_than(options["days"])
        empty = drafts.remove_empty_older_than(1)
        self.stdout.write(
            f"Removed {removed} draft(s) untouched for more than {options['days']} days, "
            f"and {empty} empty draft(s) older than a day."
        )
