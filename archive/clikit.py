"""Command-line plumbing every package's `cli.py` shares: the context with the settings, errors as messages."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from archive.errors import XxgkError
from archive.settings import Settings, load_settings

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from archive.store import WarcStore

log = logging.getLogger("xxgk")


@dataclass(frozen=True)
class Derived:
    """What the top floor does with derived data; packages call it without importing those who derive it."""

    refresh: Callable[[Settings, Catalog], str]  # after a crawl or an import: a one-line summary
    verify: Callable[[Settings], bool]  # `xxgk verify --index`: prints the differences, True when none
    describe: Callable[[Settings], dict[str, Any]]  # `xxgk status`: the index's engine, size and age


class Context:
    """The `xxgk` command's state: settings read on first use, the log level, the derived-data hooks."""

    def __init__(self, config: str | None, overrides: dict[str, Any], level: int, derived: Derived) -> None:
        self.config = config
        self.overrides = overrides
        self.level = level
        self.derived = derived
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from archive import logs

            self._settings = load_settings(self.config, overrides=self.overrides)
            logs.configure(self.level, self._settings.log_format, self._settings.timezone)
        return self._settings


pass_ctx = click.make_pass_decorator(Context)


def fail(exc: XxgkError) -> click.ClickException:
    return click.ClickException(exc.message + (f"\n提示 / hint: {exc.hint}" if exc.hint else ""))


class Group(click.Group):
    """Turns our domain errors into a one-line message and exit status 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XxgkError as exc:
            raise fail(exc) from None


def open_archive(settings: Settings) -> tuple[Catalog, WarcStore]:
    """The catalog and the WARC store, with any WARC file a killed process left open recovered first."""
    from archive.catalog import Catalog
    from archive.store import WarcStore

    store = WarcStore(settings.warc_dir, settings.warc_max_bytes)
    for name in store.recover():
        log.warning("recovered unsealed WARC file %s", name)
    return Catalog(settings.catalog_path), store


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal (stderr), fed with the count done so far; silent otherwise."""
    if not sys.stderr.isatty() or total <= 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        done = [0]

        def tick(count: int) -> None:
            bar.update(count - done[0])
            done[0] = count

        yield tick
