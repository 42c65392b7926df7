"""Applications: create, list, change, rotate credentials, delete; the database is the truth.

Every committed change is mirrored to Consul KV (:class:`~registry.kv_mirror.AppMirror`).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ariscale_common.ari import AriError
from ariscale_common.dialplan import LINK_APP
from ariscale_common.discovery import AppRecord
from ariscale_common.passwords import generate_password, hash_password
from registry.consul_store import ConsulStore
from registry.exceptions import (
    AppNameReserved,
    AppNameTaken,
    AppNotFound,
    ConsulUnavailable,
    ExtensionTaken,
)
from registry.kv_mirror import AppMirror
from registry.models import App, AppExtension, utcnow
from registry.node_ari import NodeAri
from registry.schemas import (
    RESERVED_NAME_PREFIX,
    AppCreate,
    AppCreated,
    AppDetail,
    AppNodeState,
    AppPublic,
    AppsPublic,
    AppUpdate,
    Credentials,
)

log = logging.getLogger(__name__)


class AppService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mirror: AppMirror,
        store: ConsulStore,
        node_ari: NodeAri,
        consumers: Callable[[str], Awaitable[int | None]],
    ) -> None:
        self._sessions = sessions
        self._mirror = mirror
        self._store = store
        self._node_ari = node_ari
        self._consumers = consumers

    async def create(self, new: AppCreate) -> AppCreated:
        if new.name == LINK_APP or new.name.startswith(RESERVED_NAME_PREFIX):
            raise AppNameReserved(new.name)
        password = generate_password()
        hashed = await asyncio.to_thread(hash_password, password)
        async with self._sessions() as session:
            if (existing := await _find_any_case(session, new.name)) is not None:
                raise AppNameTaken(new.name, existing.name)
            await _check_extensions_free(session, new.extensions, owner=None)
            app = App(name=new.name, description=new.description, enabled=True, password_hash=hashed)
            app.extensions = _extension_rows(app, new.extensions)
            session.add(app)
            await _commit(session, new.name, new.extensions, owner=None)
        await self._mirror.publish(_record(app))
        log.info("app %s created (extensions %s)", app.name, ", ".join(new.extensions) or "none")
        return AppCreated(
            **_public(app).model_dump(), credentials=Credentials(username=app.name, password=password)
        )

    async def list_all(self) -> AppsPublic:
        async with self._sessions() as session:
            apps = (await session.scalars(select(App).order_by(App.name))).all()
        return AppsPublic(data=[_public(a) for a in apps], count=len(apps))

    async def get(self, name: str) -> AppDetail:
        async with self._sessions() as session:
            app = await _get(session, name)
        return AppDetail(
            **_public(app).model_dump(),
            nodes=await self._node_states(name),
            consumers=await self._consumers(name),
        )

    async def update(self, name: str, change: AppUpdate) -> AppPublic:
        async with self._sessions() as session:
            app = await _get(session, name)
            if change.extensions is not None:
                await _check_extensions_free(session, change.extensions, owner=app.id)
                app.extensions = _extension_rows(app, change.extensions)
            if change.description is not None:
                app.description = change.description
            if change.enabled is not None:
                app.enabled = change.enabled
            app.updated_at = utcnow()
            await _commit(session, name, change.extensions or [], owner=app.id)
        await self._mirror.publish(_record(app))
        log.info("app %s updated: %s", name, change.model_dump(exclude_unset=True))
        return _public(app)

    async def rotate_password(self, name: str) -> Credentials:
        password = generate_password()
        hashed = await asyncio.to_thread(hash_password, password)
        async with self._sessions() as session:
            app = await _get(session, name)
            app.password_hash = hashed
            app.updated_at = utcnow()
            await session.commit()
        await self._mirror.publish(_record(app))
        log.info("app %s: password rotated", name)
        return Credentials(username=name, password=password)

    async def delete(self, name: str) -> None:
        async with self._sessions() as session:
            app = await _get(session, name)
            await session.delete(app)
            await session.commit()
        await self._mirror.remove(name)
        log.info("app %s deleted", name)

    async def _node_states(self, name: str) -> list[AppNodeState] | None:
        try:
            nodes = await self._store.nodes()
        except ConsulUnavailable:
            return None

        async def state(node_id: str, ari_url: str | None) -> AppNodeState:
            if ari_url is None:
                return AppNodeState(node_id=node_id, subscribed=None, error="no ari_url in Consul meta")
            try:
                subscribed = name in await self._node_ari.applications(ari_url)
            except AriError as exc:
                return AppNodeState(node_id=node_id, subscribed=None, error=str(exc))
            return AppNodeState(node_id=node_id, subscribed=subscribed)

        return list(
            await asyncio.gather(*(state(n.node_id, n.meta.ari_url if n.meta else None) for n in nodes))
        )


async def load_records(sessions: async_sessionmaker[AsyncSession]) -> list[AppRecord]:
    """Every app as the nodes and the gateway see it in KV (what the mirror re-syncs from)."""
    async with sessions() as session:
        apps = (await session.scalars(select(App).order_by(App.name))).all()
    return [_record(a) for a in apps]


async def _find(session: AsyncSession, name: str) -> App | None:
    return await session.scalar(select(App).where(App.name == name))


async def _find_any_case(session: AsyncSession, name: str) -> App | None:
    """An app whose name equals ``name`` ignoring case (older apps may have capitals)."""
    return await session.scalar(select(App).where(func.lower(App.name) == name.lower()).limit(1))


async def _get(session: AsyncSession, name: str) -> App:
    app = await _find(session, name)
    if app is None:
        raise AppNotFound(name)
    return app


async def _check_extensions_free(session: AsyncSession, extensions: list[str], owner: int | None) -> None:
    """Raise ExtensionTaken naming the owner of any of ``extensions`` owned by another app."""
    if not extensions:
        return
    rows = await session.execute(
        select(AppExtension.extension, App.name)
        .join(App)
        .where(AppExtension.extension.in_(extensions), App.id != (owner if owner is not None else -1))
    )
    taken = {ext: app_name for ext, app_name in rows.all()}
    if taken:
        raise ExtensionTaken(taken)


async def _commit(session: AsyncSession, name: str, extensions: list[str], owner: int | None) -> None:
    """Commit; a concurrent writer that won the race on a name (in any case) or number still gives a 409."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if owner is None and (existing := await _find_any_case(session, name)) is not None:
            raise AppNameTaken(name, existing.name) from None
        await _check_extensions_free(session, extensions, owner)
        raise


def _extension_rows(app: App, extensions: list[str]) -> list[AppExtension]:
    # Reuse the rows of numbers the app keeps: a delete plus insert of one primary key in a
    # single flush would trip the unique constraint.
    existing = {e.extension: e for e in app.extensions} if app.id is not None else {}
    rows = []
    for position, extension in enumerate(extensions):
        row = existing.get(extension) or AppExtension(extension=extension)
        row.position = position
        rows.append(row)
    return rows


def _public(app: App) -> AppPublic:
    return AppPublic.model_validate(
        {
            "name": app.name,
            "extensions": app.extension_list,
            "description": app.description,
            "enabled": app.enabled,
            "created_at": app.created_at,
            "updated_at": app.updated_at,
        }
    )


def _record(app: App) -> AppRecord:
    return AppRecord(
        name=app.name, extensions=app.extension_list, enabled=app.enabled, password_hash=app.password_hash
    )
