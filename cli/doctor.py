"""`shop doctor [--json]`: audit a live database for broken invariants, read-only.

Exit status 0 when healthy, 1 when anything is found (the report says what, row by row),
so it can run from cron or a deploy pipeline. The checks: `services.doctor`.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from core.settings import get_settings


def add_command(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser(
        "doctor", help="Audit the database for broken invariants (read-only; exit 1 if any)."
    )
    doctor.add_argument("--json", action="store_true", help="Print the report as JSON.")
    doctor.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from core.db import database
    from services.doctor import audit

    async def run():
        # Never migrate: an audit must not change the database it looks at.
        async with database(get_settings(), migrate_first=False):
            return await audit()

    report = asyncio.run(run())
    print(json.dumps(report.as_json(), indent=2) if args.json else report.as_text())
    return 0 if report.healthy else 1
