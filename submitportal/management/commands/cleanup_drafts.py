"""`manage.py cleanup_drafts [--days 30]`: remove drafts (and their stored files) untouched for that long."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from submitportal import drafts


class Command(BaseCommand):
    help = "Remove drafts, submitted or not, that nobody has touched for --days days (default 30), with their files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            self.stderr.write("--days must be at least 1.")
            raise SystemExit(2)
        removed = drafts.remove_older_than(options["days"])
        self.stdout.write(f"Removed {removed} draft(s) untouched for more than {options['days']} days.")
