"""The OpsBee face's caller (Bearer or Basic credentials, the organization in its path), and what its paths name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.domain import evaluation, threads
from service.domain.deployments import get_deployment
from service.domain.tenants import authenticate, parse_credentials
from service.errors import NotFound

if TYPE_CHECKING:
    from service.db.models import Assistant, ChatSession, EvalDataset, EvalItem

ME = "me"


async def provide_tenant(request: Request[object, object, State], db: NamedDependency[AsyncSession]) -> str:
    return await authenticate(db, parse_credentials(request.headers.get("authorization")))


def provide_org(organization_id: FromPath[str], tenant: NamedDependency[str]) -> str:
    """The caller's tenant id, when the path names it (or `me`); any other organization does not exist."""
    if organization_id not in (tenant, ME):
        raise NotFound(f"organization {organization_id} not found")
    return tenant


async def provide_deployment(
    deployment_id: FromPath[str], db: NamedDependency[AsyncSession], org: NamedDependency[str]
) -> Assistant:
    return await get_deployment(db, org, deployment_id)


async def provide_thread(
    thread_id: FromPath[str], db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
) -> ChatSession:
    return await threads.get_thread(db, deployment, thread_id)


async def provide_eval_dataset(
    dataset_id: FromPath[str], db: NamedDependency[AsyncSession], org: NamedDependency[str]
) -> EvalDataset:
    return await evaluation.get_dataset(db, org, dataset_id)


async def provide_item(
    item_id: FromPath[str], db: NamedDependency[AsyncSession], dataset: NamedDependency[EvalDataset]
) -> EvalItem:
    return await evaluation.get_item(db, dataset, item_id)


# What a controller's path names, looked up once per request (each against the one before it).
DEPLOYMENT = {"deployment": Provide(provide_deployment)}
THREAD = {**DEPLOYMENT, "thread": Provide(provide_thread)}
EVAL_DATASET = {"dataset": Provide(provide_eval_dataset)}
ITEM = {**EVAL_DATASET, "item": Provide(provide_item)}

DEPENDENCIES = {
    "tenant": Provide(provide_tenant),
    "org": Provide(provide_org, sync_to_thread=False),
}
