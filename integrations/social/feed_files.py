"""The feed files: written in one pass per scope, kept in storage, written again when things change.

A scope (the store, or one pop-up) has four files: Google and Meta, XML and CSV. They are made on
the first request for one of them, then kept in the default storage under a directory named by an
HMAC of the scope (as unguessable as the URL's token), and replaced atomically: a platform fetching
a feed gets the old file or the new one, never half of one.

They are written again
- after a change that can alter them (signals in `receivers.py`): a pop-up, its terms, a product,
  its stock record or images, a range's products. Once the transaction commits, one Celery task per
  scope runs, debounced, so a bulk import queues one task rather than thousands;
- when a pop-up opened or closed since they were written, or when they are older than
  POPUP_FEED_MAX_AGE seconds (15 minutes by default; sales change the units left without a save
  we hear of): the beat's `feeds_refresh_run` each minute, and the request itself if it comes first.
"""

import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from integrations.social.feeds import (
    FORMATS,
    PLATFORMS,
    CsvFeedWriter,
    XmlFeedWriter,
    feed_items,
    feed_row,
    feed_scope_digest,
    popup_in_feeds,
)
from integrations.social.tasks import feeds_regenerate_run
from popup.cache import cache_add, cache_delete, cache_delete_many, cache_get_many
from popup.conf import popup_settings, site_url
from popup.core.languages import language_default
from popup.models import PopUp

logger = logging.getLogger(__name__)

FEEDS_DIR = "popup-feeds"
FILES_SALT = "integrations.social.feeds.files"
DEBOUNCE_SECONDS = 30
# A pop-up's feed is kept up to date this long after it closed, so it empties on time.
RECENTLY_CLOSED = timedelta(days=1)
PENDING = "popup-feeds:pending:{}"
WRITING = "popup-feeds:writing:{}"
WRITE_LOCK_SECONDS = 10 * 60  # longer than writing the largest feed takes


@dataclass(frozen=True)
class FeedFile:
    file: BinaryIO
    generated_at: datetime
    content_type: str


def feed_file_name(*, popup_id: int | None, platform: str, fmt: str) -> str:
    """Where the scope's feed is kept in storage."""
    directory = feed_scope_digest(salt=FILES_SALT, popup_id=popup_id)
    return f"{FEEDS_DIR}/{directory}/{platform}.{fmt}"


def feed_file_open(
    *, popup: PopUp | None, platform: str, fmt: str, now: datetime | None = None
) -> FeedFile:
    """The feed file, open for reading; written first if it is missing or stale."""
    now = now or timezone.now()
    name = feed_file_name(popup_id=popup.pk if popup else None, platform=platform, fmt=fmt)
    generated_at = _generated_at(name)
    if generated_at is None:
        feed_files_write(popup=popup, now=now)
        generated_at = now
    elif feed_is_stale(popup=popup, generated_at=generated_at, now=now):
        # If someone else is writing them, the files they replace are served meanwhile; if the
        # disk refuses (full, read-only), the last good files are.
        try:
            written = _write_unless_writing(popup=popup, now=now)
        except OSError:
            logger.exception("Feeds of %s could not be rewritten: the last ones are served", name)
            written = False
        generated_at = now if written else generated_at
    return FeedFile(
        file=default_storage.open(name, "rb"),
        generated_at=generated_at,
        content_type=FORMATS[fmt],
    )


def feed_is_stale(*, popup: PopUp | None, generated_at: datetime, now: datetime) -> bool:
    """Whether feeds written at `generated_at` are out of date: too old, or a pop-up in them (or
    the pop-up) opened or closed since, which no save announces."""
    max_age = popup_settings.POPUP_FEED_MAX_AGE
    if now - generated_at >= timedelta(seconds=max_age):
        return True
    crossed = Q(opens_at__gt=generated_at, opens_at__lte=now) | Q(
        closes_at__gt=generated_at, closes_at__lte=now
    )
    popups = PopUp.objects.filter(crossed)
    if popup is None:
        popups = popups.filter(is_published=True, event_only=False)
    else:
        popups = popups.filter(pk=popup.pk)
    return popups.exists()


def feed_files_write(*, popup: PopUp | None = None, now: datetime | None = None) -> int:
    """Write the scope's four feeds in one pass over its items, each replacing the old file once
    complete. Returns the number of items. A feed is in one language, the pop-up's default (the
    store's for the store-wide feed): Oscar's products have one title and one description, so a
    feed per language would repeat them under other labels only."""
    with translation.override(language_default(popup)):
        return _feed_files_write(popup=popup, now=now)


def _feed_files_write(*, popup: PopUp | None, now: datetime | None) -> int:
    now = now or timezone.now()
    site = site_url()
    shop_name = settings.OSCAR_SHOP_NAME
    shown = popup is None or popup_in_feeds(popup=popup, now=now)
    title = shop_name if popup is None or not shown else f"{popup.title} · {shop_name}"
    link = site if popup is None or not shown else f"{site}{popup.get_absolute_url()}"
    popup_id = popup.pk if popup else None
    count = 0
    with ExitStack() as stack:
        writers = []
        for platform in PLATFORMS.values():
            for fmt in FORMATS:
                name = feed_file_name(popup_id=popup_id, platform=platform.code, fmt=fmt)
                out = stack.enter_context(_replacing(name, generated_at=now))
                if fmt == "csv":
                    writer = CsvFeedWriter(out, columns=platform.columns)
                else:
                    writer = XmlFeedWriter(
                        out, title=title, link=link, description=f"{platform.label}: {title}"
                    )
                writers.append((platform, writer))
        for item in feed_items(popup=popup, now=now):
            rows = {code: feed_row(item=item, platform=spec) for code, spec in PLATFORMS.items()}
            for platform, writer in writers:
                writer.write(rows[platform.code])
            count += 1
        for _platform, writer in writers:
            writer.close()
    return count


def feed_files_exist() -> bool:
    """Whether any feed was ever requested: until then, changes need not write anything."""
    try:
        directories, _files = default_storage.listdir(FEEDS_DIR)
    except (FileNotFoundError, NotImplementedError):
        return False
    return bool(directories)


def feeds_regenerate_queue(*, popup_ids: Iterable[int] | None = None) -> None:
    """Once the transaction commits, write again the feeds these pop-ups' changes touch (None: a
    catalogue change, every pop-up). One task per scope waits at a time (debounced)."""
    scopes = [None] if popup_ids is None else sorted(set(popup_ids))
    pending = cache_get_many([_key(None), *(_key(scope) for scope in scopes)])
    if _key(None) in pending or all(_key(scope) in pending for scope in scopes):
        return  # a task that will see these changes is already waiting
    if not feed_files_exist():
        return  # none was requested yet: they are written on the first request
    fresh = [scope for scope in scopes if cache_add(_key(scope), True, DEBOUNCE_SECONDS)]
    if not fresh:
        return
    kwargs = {"popup_ids": None if popup_ids is None else fresh}
    transaction.on_commit(partial(_regenerate_send, kwargs))


def _regenerate_send(kwargs: dict) -> None:
    """Queue the rewrite; a queue that cannot be reached is logged, not raised into the save
    that committed (the beat, or the next request, rewrites feeds older than
    POPUP_FEED_MAX_AGE)."""
    try:
        feeds_regenerate_run.apply_async(kwargs=kwargs, countdown=DEBOUNCE_SECONDS)
    except Exception:  # kombu's OperationalError, a broken connection pool, a DNS failure…
        logger.exception("Could not queue the feeds' rewrite %r", kwargs)


def feeds_regenerate(*, popup_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Write again the existing feeds of these pop-ups (None: all but long-closed ones) and the
    store's; delete those of pop-ups that no longer exist. Returns the scopes written."""
    now = now or timezone.now()
    # Changes from now on need a new run: let them queue one.
    cache_delete_many([_key(scope) for scope in (popup_ids or [None])])
    written = 0
    if _scope_exists(None):
        feed_files_write(popup=None, now=now)
        written += 1
    if popup_ids is None:
        popups = PopUp.objects.filter(closes_at__gt=now - RECENTLY_CLOSED)
    else:
        popups = PopUp.objects.filter(pk__in=popup_ids)
        for gone in set(popup_ids) - set(popups.values_list("pk", flat=True)):
            _scope_delete(gone)
    for popup in popups.select_related("range").order_by("pk"):
        if _scope_exists(popup.pk):
            feed_files_write(popup=popup, now=now)
            written += 1
    return written


def feeds_refresh(*, now: datetime | None = None) -> int:
    """Write again the feeds gone stale (a pop-up opened or closed since, or too old); the beat
    runs it every minute. Returns the scopes written."""
    now = now or timezone.now()
    written = 0
    recent = PopUp.objects.filter(closes_at__gt=now - RECENTLY_CLOSED).select_related("range")
    for popup in [None, *recent.order_by("pk")]:
        name = feed_file_name(popup_id=popup.pk if popup else None, platform="google", fmt="xml")
        generated_at = _generated_at(name)
        if (
            generated_at is not None
            and feed_is_stale(popup=popup, generated_at=generated_at, now=now)
            and _write_unless_writing(popup=popup, now=now)
        ):
            written += 1
    return written


def _key(scope: int | None) -> str:
    return PENDING.format("all" if scope is None else scope)


def _write_unless_writing(*, popup: PopUp | None, now: datetime) -> bool:
    """Write the scope's feeds unless someone else is writing them now (then False)."""
    lock = WRITING.format("all" if popup is None else popup.pk)
    if not cache_add(lock, True, WRITE_LOCK_SECONDS):
        return False
    try:
        feed_files_write(popup=popup, now=now)
    finally:
        cache_delete(lock)
    return True


def _scope_exists(popup_id: int | None) -> bool:
    return default_storage.exists(feed_file_name(popup_id=popup_id, platform="google", fmt="xml"))


def _scope_delete(popup_id: int) -> None:
    for platform in PLATFORMS:
        for fmt in FORMATS:
            default_storage.delete(feed_file_name(popup_id=popup_id, platform=platform, fmt=fmt))


def _generated_at(name: str) -> datetime | None:
    try:
        return default_storage.get_modified_time(name)
    except (OSError, NotImplementedError):
        return None


@contextmanager
def _replacing(name: str, *, generated_at: datetime) -> Iterator[BinaryIO]:
    """A file to write `name`'s new content to; it replaces the stored one once complete.

    On a file system: a hidden file beside it, dated `generated_at` (when the data was read), then
    renamed over it. On an object store that overwrites (django-storages' S3Storage, its default):
    a local temporary file, then one upload over the old object (a multipart upload for a big feed),
    which readers see whole or not at all. Elsewhere: deleted, then saved (a reader in between gets
    a 404 and asks again).
    """
    local = _local_path(default_storage, name)
    if local is not None:
        local.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=local.parent if local else None, prefix=".feed-", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as out:
            yield out
        if local is not None:
            os.chmod(temporary, getattr(default_storage, "file_permissions_mode", None) or 0o644)
            stamp = generated_at.timestamp()
            os.utime(temporary, (stamp, stamp))
            os.replace(temporary, local)
        else:
            if not getattr(default_storage, "file_overwrite", False):
                default_storage.delete(name)  # else save() would pick another name
            with open(temporary, "rb") as written:
                default_storage.save(name, File(written))
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _local_path(storage: Storage, name: str) -> Path | None:
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None
