"""Our extensions of a deployment on the OpsBee face: history export, usage analytics, feedback on a history.

- `GET .../deployments/{d}/histories/export?format=csv|jsonl&search_query=...` streams every matching history;
- `GET .../datasets/{dataset_id}/items/export?format=csv|jsonl&search_query=...` streams a dataset's items;
- `GET .../deployments/{d}/stats?from&to&interval=hour|day` counts usage per interval (UTC);
- `PUT .../deployments/{d}/histories/{h}/feedback {"thumbup": true|false|null, "feedback"?: "comment"}` rates a
  history of either kind (system tags `feedback:like` / `feedback:dislike`, the comment as metadata `feedback`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api.body import json_object
from service.api.opsbee.deps import DEPLOYMENT, EVAL_DATASET
from service.api.opsbee.histories import DEPLOYMENT as DEPLOYMENT_PATH
from service.api.opsbee.runs import export_response
from service.api.opsbee.schemas import BODY, raw_search_query
from service.api.opsbee.views import history_json, iso, reply
from service.domain import exports, feedback, history, usage_stats

if TYPE_CHECKING:
    from service.db.models import Assistant, EvalDataset


@get(DEPLOYMENT_PATH + "/histories/export", dependencies=DEPLOYMENT)
async def export_histories(
    request: Request[Any, Any, Any],
    deployment: NamedDependency[Assistant],
    sessions: NamedDependency[async_sessionmaker[AsyncSession]],
) -> Stream:
    export = exports.history_export(deployment, raw_search_query(request), request.query_params.get("format"))
    return export_response(sessions, export)


@get("/organizations/{organization_id:str}/datasets/{dataset_id:str}/items/export", dependencies=EVAL_DATASET)
async def export_items(
    request: Request[Any, Any, Any],
    dataset: NamedDependency[EvalDataset],
    sessions: NamedDependency[async_sessionmaker[AsyncSession]],
) -> Stream:
    export = exports.item_export(dataset, raw_search_query(request), request.query_params.get("format"))
    return export_response(sessions, export)


def _bucket_json(bucket: usage_stats.UsageBucket) -> dict[str, Any]:
    return {
        "start": iso(bucket.start),
        "messages": bucket.messages,
        "threads": bucket.threads,
        "active_users": bucket.active_users,
        "input_tokens": bucket.input_tokens,
        "output_tokens": bucket.output_tokens,
        "latency_p50_ms": bucket.latency_p50_ms,
        "latency_p95_ms": bucket.latency_p95_ms,
        "errors": bucket.errors,
        "error_rate": bucket.error_rate,
        "likes": bucket.likes,
        "dislikes": bucket.dislikes,
    }


@get(DEPLOYMENT_PATH + "/stats", dependencies=DEPLOYMENT)
async def deployment_stats(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], deployment: NamedDependency[Assistant]
) -> Response[Any]:
    query = request.query_params
    start, end, interval = usage_stats.usage_range(query.get("from"), query.get("to"), query.get("interval"))
    usage = await usage_stats.deployment_usage(db, deployment, start, end, interval)
    return reply(
        {
            "organization_id": deployment.tenant_id,
            "deployment_id": deployment.id,
            "from": iso(usage.start),
            "to": iso(usage.end),
            "interval": usage.interval,
            "total": {key: value for key, value in _bucket_json(usage.total).items() if key != "start"},
            "intervals": [_bucket_json(bucket) for bucket in usage.buckets],
        }
    )


@put(DEPLOYMENT_PATH + "/histories/{history_id:str}/feedback", dependencies=DEPLOYMENT, status_code=200)
async def rate_history(
    history_id: FromPath[str],
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncSession],
    deployment: NamedDependency[Assistant],
) -> Response[Any]:
    body = await json_object(request, BODY)
    rating, comment = feedback.history_rating(body)
    message = await history.get_history(db, deployment, history_id)
    await feedback.apply_feedback(db, message, rating, comment)
    return reply(history_json(await history.view_of(db, message)))
