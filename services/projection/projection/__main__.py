"""``python -m projection`` serves the API and consumes events; ``python -m projection rebuild``
rebuilds every read model from the topics (stop the service first: see ``rebuild.py``).

Serving first applies the migrations, and runs the rebuild itself when a migration asked for
one (``projection_state.rebuild_required``), before the live consumer starts.
"""

import asyncio
import sys

from projection.app import MIGRATIONS, create_app
from projection.rebuild import LiveConsumerRunning, rebuild, rebuild_required
from weiquan_shared.db import prepare_database
from weiquan_shared.service import bootstrap_settings, serve
from weiquan_shared.settings import Settings


async def _migrate(settings: Settings) -> bool:
    """Create and migrate the database; says whether a migration asked for a rebuild."""
    pool = await prepare_database(settings, MIGRATIONS)
    try:
        async with pool.acquire() as conn:
            return await rebuild_required(conn)
    finally:
        await pool.close()


def main(argv: list[str]) -> None:
    if argv == ["rebuild"]:
        settings = bootstrap_settings("projection")
        asyncio.run(_migrate(settings))
        try:
            report = asyncio.run(rebuild(settings))
        except LiveConsumerRunning as exc:
            sys.exit(f"rebuild refused: {exc}")
        print(
            f"rebuilt from {report.events} events ({report.applied} applied, "
            f"{report.duplicates} duplicates, {report.invalid} invalid) in "
            f"{report.seconds:.1f} s: {report.events_per_second:,.0f} events/s"
        )
        return
    if argv:
        sys.exit("usage: python -m projection [rebuild]")
    app, settings = create_app()
    if asyncio.run(_migrate(settings)):
        # A previous instance may still count as a member until its session times out.
        asyncio.run(rebuild(settings, wait_for_idle_group_s=60))
    serve(app, settings)


main(sys.argv[1:])
