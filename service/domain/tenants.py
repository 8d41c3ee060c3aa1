"""Tenants and their API keys. Keys are stored as SHA-256 hashes; the plaintext is shown once.

A key is named afterwards by its hint (its first 12 characters, e.g. `nectar-AbCdE`), which `nectar apikey
list` shows and `nectar apikey revoke` takes. Servers cache a key's tenant for `CACHE_SECONDS`: a key revoked
by another process stops working there within that time.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ApiKey, Tenant
from service.domain.names import required_name
from service.errors import Conflict, NotFound, Unauthenticated

KEY_PREFIX = "nectar-"
HINT_LENGTH = 12
CACHE_SECONDS = 30.0
_cache: dict[str, tuple[str, float]] = {}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class TenantSummary:
    id: str
    name: str
    created_at: datetime
    keys: int


async def create_tenant(db: AsyncSession, name: str) -> Tenant:
    tenant = Tenant(name=required_name(name))
    db.add(tenant)
    await db.flush()
    return tenant


async def get_tenant(db: AsyncSession, tenant_id: str) -> Tenant:
    tenant = await db.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found (`nectar tenant list` shows them)")
    return tenant


async def list_tenants(db: AsyncSession) -> list[TenantSummary]:
    """Every tenant, oldest first (the first is the default one), with how many keys it has."""
    keys = select(ApiKey.tenant_id, func.count().label("n")).group_by(ApiKey.tenant_id).subquery()
    rows = await db.execute(
        select(Tenant.id, Tenant.name, Tenant.created_at, func.coalesce(keys.c.n, 0))
        .outerjoin(keys, keys.c.tenant_id == Tenant.id)
        .order_by(Tenant.created_at, Tenant.id)
    )
    return [TenantSummary(*row) for row in rows]


async def add_api_key(db: AsyncSession, tenant_id: str, key: str | None = None) -> str:
    """Store a key for the tenant (a given one, e.g. NECTAR_API_KEY, or a fresh one) and return it."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hash_key(key)
    existing = await db.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if existing is None:
        db.add(ApiKey(tenant_id=tenant_id, key_hash=digest, hint=key[:HINT_LENGTH]))
        await db.flush()
    return key


async def list_api_keys(db: AsyncSession, tenant_id: str | None = None) -> list[ApiKey]:
    """The keys (hints, never the keys) of one tenant or of all, oldest first."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == (await get_tenant(db, tenant_id)).id)
    return list(await db.scalars(query))


async def revoke_api_key(db: AsyncSession, key_or_hint: str) -> ApiKey:
    """Delete the key given whole, or the one key whose hint this is (`…` after it is allowed, as listed)."""
    given = key_or_hint.strip()
    found = list(await db.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(given))))
    if not found:
        found = list(await db.scalars(select(ApiKey).where(ApiKey.hint == given.removesuffix("…").removesuffix("..."))))
    if not found:
        raise NotFound("no API key is that key or has that hint (`nectar apikey list` shows the hints)")
    if len(found) > 1:
        tenants = ", ".join(sorted({key.tenant_id for key in found}))
        raise Conflict(f"{len(found)} keys have the hint {given!r} (tenants {tenants}): give the whole key")
    [key] = found
    await db.execute(delete(ApiKey).where(ApiKey.id == key.id))
    _cache.pop(key.key_hash, None)  # this process at once; others within CACHE_SECONDS
    return key


async def default_tenant(db: AsyncSession) -> Tenant | None:
    return await db.scalar(select(Tenant).order_by(Tenant.created_at, Tenant.id).limit(1))


async def ensure_default_tenant(db: AsyncSession, seed_key: str | None) -> tuple[Tenant, str | None]:
    """The tenant a fresh install starts with; returns a new key only when one had to be made."""
    tenant = await default_tenant(db)
    created_key: str | None = None
    if tenant is None:
        tenant = await create_tenant(db, "default")
        if seed_key is None:
            created_key = await add_api_key(db, tenant.id)
    if seed_key is not None:
        await add_api_key(db, tenant.id, seed_key)
    return tenant, created_key


def parse_authorization(header: str | None) -> str:
    """RAGFlow accepts `Bearer <key>` (any case) or the bare key."""
    if not header or not header.strip():
        raise Unauthenticated("`Authorization` can't be empty")
    parts = header.strip().split(None, 1)
    return parts[1].strip() if len(parts) == 2 and parts[0].lower() == "bearer" else parts[0]


def parse_credentials(header: str | None) -> str:
    """OpsBee's clients: `Bearer <key>`, or `Basic base64("user-<id>:<key>")` whose password is the API key
    (split on the first `:`; the user id is informational)."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return parse_authorization(header)
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except ValueError:
        raise Unauthenticated("malformed Basic credentials") from None
    _, colon, password = decoded.partition(":")
    if not colon or not password:
        raise Unauthenticated("Basic credentials need `user:api_key`")
    return password


async def authenticate(db: AsyncSession, key: str) -> str:
    """The tenant id a key belongs to. Cached briefly: every request authenticates."""
    digest = hash_key(key)
    cached = _cache.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    tenant_id = await db.scalar(select(ApiKey.tenant_id).where(ApiKey.key_hash == digest))
    if tenant_id is None:
        raise Unauthenticated("Authentication error: API key is invalid!")
    _cache[digest] = (tenant_id, time.monotonic() + CACHE_SECONDS)
    return tenant_id
