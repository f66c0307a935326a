"""Keep one platform's command source connected: an outage never stops the others, a refused token stops only it.

Any error other than a refused token (network, the platform down, the gateway closing)
closes the connection, waits with exponential backoff and connects again; the command
source registers its commands on each new connection. A refused token is a configuration
error: retrying cannot help, so supervision of that platform ends after `on_refused`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core.errors import TokenRefused
from bot.ports import Adapter

if TYPE_CHECKING:
    from bot.chat.query import QueryEngine

__all__ = ["supervise"]

log = logging.getLogger(__name__)


async def supervise(adapter: Adapter, engine: QueryEngine, *,
                    on_refused: Callable[[TokenRefused], object] = lambda exc: None,
                    on_connected: Callable[[], object] = lambda: None,
                    first_delay: float = 5.0, max_delay: float = 300.0) -> None:
    """Serve `adapter.commands` until cancelled (or the token is refused).

    Args:
        adapter: the platform; its sender's connection is the one commands are served on.
        engine: answers the commands.
        on_refused: told once when the platform refuses the token (mark the platform broken).
        on_connected: told each time a connection comes up (lift a broken mark).
        first_delay, max_delay: backoff between attempts, in seconds.
    """
    if adapter.commands is None:
        return
    delay = first_delay
    while True:
        try:
            await adapter.sender.start()
            on_connected()
            delay = first_delay
            await adapter.commands.serve(engine)
            return
        except asyncio.CancelledError:
            raise
        except TokenRefused as exc:
            log.error("%s: %s; this platform stays stopped until the token is fixed and digestbot restarted",
                      adapter.name, exc)
            on_refused(exc)
            return
        except Exception as exc:  # errors leave the adapters redacted
            log.error("%s: cannot connect or serve (%s: %s); retrying in %.0fs", adapter.name,
                      type(exc).__name__, exc, delay)
            try:
                await adapter.close()
            except Exception as close_error:
                log.debug("%s: close failed: %s", adapter.name, close_error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
