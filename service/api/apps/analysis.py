"""`GET /apps/{id}/analysis` (the imooc course's `/analysis/:app_id` shape) and feedback on an app's message.

- `GET /apps/{id}/analysis`: the last 7 whole days (UTC) against the 7 before, from the same usage query as
  OpsBee's `/stats`: `total_messages`, `active_accounts`, `avg_of_conversation_messages`, `token_output_rate`,
  `cost_consumption` (always 0: no prices are kept), each `{data, pop}`, and 4 daily `*_trend {x_axis, y_axis}`.
- `POST /apps/{id}/messages/{message_id}/feedback {"rating": "like"|"dislike"|null, "content"?}` (Dify's message
  feedback): rates any visible message of the app; the rating becomes the history's `feedback:*` tag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.apps.deps import APP
from service.api.apps.envelope import ok
from service.api.apps.schemas import BODY
from service.api.apps.views import message_json
from service.api.body import json_object
from service.domain import feedback, usage_stats

if TYPE_CHECKING:
    from service.db.models import Assistant

RATINGS: dict[bool | None, str | None] = {True: "like", False: "dislike", None: None}


class AnalysisController(Controller):
    path = "/{app_id:str}"
    dependencies = APP

    @get("/analysis")
    async def analysis(self, db: NamedDependency[AsyncSession], app: NamedDependency[Assistant]) -> Response[Any]:
        return ok(await usage_stats.app_analysis(db, app))

    @post("/messages/{message_id:str}/feedback", status_code=200)
    async def rate_message(
        self,
        message_id: FromPath[str],
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncSession],
        app: NamedDependency[Assistant],
    ) -> Response[Any]:
        rating, comment = feedback.app_rating(await json_object(request, BODY))
        message = await feedback.apply_feedback(db, await feedback.app_message(db, app, message_id), rating, comment)
        rated = {"rating": RATINGS[message.thumbup], "content": message.feedback}
        return ok({**message_json(message), **rated}, "反馈成功")
