"""Running the sync engine under an app: on its own asyncio loop in a worker thread,
so neither HTTP nor SQLite writes ever touch the UI loop; its news arrive as messages.
Shared by the workstation and the supervisor's monitor."""

from __future__ import annotations

from textual import work

from agentdesk.ui.messages import SyncChanged, SyncStatusChanged


class SyncHost:
    """Mixin for an App with a ``sync`` attribute (a SyncEngine or None). Handlers use
    ``on_<message>`` names: ``@on`` does not register on a mixin."""

    def start_sync(self) -> bool:
        """Relay the engine's callbacks as messages and start it (False: no engine)."""
        engine = self.sync  # type: ignore[attr-defined]
        if engine is None:
            return False
        engine.on_change = lambda changes: self.post_message(SyncChanged(changes))  # type: ignore[attr-defined]
        engine.on_status = lambda status: self.post_message(SyncStatusChanged(status))  # type: ignore[attr-defined]
        self.run_sync()
        return True

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def run_sync(self) -> None:
        """The engine restarts itself after any failure; should it still end without
        being stopped (a bug in the loop itself), the header must not go on saying
        online: it says sync stopped, and why."""
        import asyncio
        import dataclasses

        engine = self.sync  # type: ignore[attr-defined]
        why = "the sync engine ended"
        try:
            asyncio.run(engine.run())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            why = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            raise
        finally:
            if not engine.stopping:
                stopped = dataclasses.replace(engine.status, state="offline", error=f"sync stopped ({why})",
                                              retry_at=None, error_kind="stopped", error_params=(("e", why),))
                self.post_message(SyncStatusChanged(stopped))  # type: ignore[attr-defined]

    def on_unmount(self) -> None:
        if self.sync is not None:  # type: ignore[attr-defined]
            self.sync.stop()  # type: ignore[attr-defined]
