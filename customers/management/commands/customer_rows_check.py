"""Compare the customer list's read model with the source tables (issue 11).

    manage.py customer_rows_check [--limit N]

Lists every difference (a missing or extra row, a field that differs) and exits with status 1
when there is one; ``customer_rows_rebuild`` repairs them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.readmodel_check import customer_rows_differences


class Command(BaseCommand):
    help = "List the differences between the customer list's read model and the source tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        differences = customer_rows_differences(limit=options["limit"])
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{len(differences)} difference(s); run customer_rows_rebuild")
        self.stdout.write("The customer rows match the source tables.")
