"""The published OpenAPI document (`/schema/openapi.json`), described family by family.

Handlers read their bodies and query strings by hand (service/api/body.py and each family's readers), so that the
error texts are RAGFlow's, OpsBee's or OpenAI's own. Litestar therefore sees no `data` parameter and publishes no
request body, no query parameter and `{}` replies. Each family describes its operations in its own `openapi.py`
with the building blocks here (`Op`, `Param`, `Family`); `describe()` writes those descriptions into the document
Litestar builds from the routes, so paths, methods and path parameters still come from the routes themselves.
Nothing here touches how a request is read: a description is documentation, checked by
tests/unit/test_openapi_schema.py (every operation described) and by the schemathesis run in tests/clients/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Annotated, Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

JSON = "application/json"
JsonSchema = dict[str, Any]
# What a description names as a body, a reply or a parameter: a type pydantic can describe (a model, a
# TypedDict, `list[...]`, `Literal[...]`, ...) or a JSON Schema written out as a dict.
Shape = Any

BEARER, BASIC = "bearer", "basic"
SECURITY_SCHEMES = {
    BEARER: SecurityScheme(type="http", scheme="bearer", description="`Authorization: Bearer <api key>`"),
    BASIC: SecurityScheme(
        type="http", scheme="basic", description='OpsBee only: `Basic base64("user-<id>:<api key>")`'
    ),
}
BINARY: JsonSchema = {"type": "string", "format": "binary"}
ANY_MEDIA = "*/*"  # a stored file, served with its own media type
# One server-sent event (what a client reads per `data:` frame; its `data` is the family's JSON event as text).
EVENT_STREAM: JsonSchema = {
    "type": "object",
    "properties": {"data": {"type": "string", "description": "a JSON event, or `[DONE]`"}, "event": {"type": "string"}},
    "required": ["data"],
}


@dataclass(frozen=True)
class Param:
    """A query parameter. An array shape is a repeatable key (`?id=a&id=b`)."""

    name: str
    shape: Shape = str
    description: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Op:
    """One operation: its 200 reply, its request body and its query parameters.

    `reply` is the whole success body, envelope included (each family spells its envelope as a generic model).
    `upload`: the body is `multipart/form-data`; `stream`: the reply may be server-sent events instead;
    `reply_media`: the success reply's media type when it is not JSON (a file, `text/plain`).
    `public`: no API key needed."""

    reply: Shape
    body: Shape | None = None
    query: tuple[Param, ...] = ()
    body_required: bool = True
    upload: bool = False
    stream: bool = False
    reply_media: str = JSON
    public: bool = False
    description: str | None = None


@dataclass(frozen=True, eq=False)  # hashed by identity: `render` is cached per family
class Family:
    """An API family's operations, its error body and the HTTP statuses that body comes with.

    `errors_in_200`: failures answer HTTP 200 with an error code in the body (RAGFlow, apps), so the 200 reply is
    the success body or the error body. `security`: the schemes any one of which authenticates a caller."""

    name: str
    operations: Mapping[HTTPRouteHandler, Op]
    error: Shape
    error_statuses: Mapping[int, str]
    errors_in_200: bool = False
    security: tuple[str, ...] = (BEARER,)

    @cached_property
    def described(self) -> dict[Callable[..., Any], Op]:
        """The descriptions by the function each handler wraps (what the app's routes hold too)."""
        return {handler_function(handler): op for handler, op in self.operations.items()}


def params_of(model: type[BaseModel]) -> tuple[Param, ...]:
    """A query-string model's fields as parameters, with their constraints (`ge=1`, `Literal[...]`, ...)."""
    return tuple(
        Param(name, Annotated[info.annotation, info], info.description, info.is_required())
        for name, info in model.model_fields.items()
    )


@dataclass
class RawSchema(Schema):
    """A JSON Schema as pydantic writes it, published as it is (Litestar's `Schema` has no "from a dict")."""

    raw: JsonSchema = field(default_factory=dict)

    def to_schema(self) -> dict[str, Any]:
        return self.raw


@dataclass(frozen=True)
class Rendered:
    """A family's operations as JSON Schemas, and the component schemas they refer to."""

    bodies: dict[int, JsonSchema]  # by id() of the Op
    replies: dict[int, JsonSchema]
    params: dict[tuple[int, str], JsonSchema]
    error: JsonSchema
    components: dict[str, JsonSchema]


@cache
def render(family: Family) -> Rendered:
    """Every shape of `family` through one pydantic generation, so models they share become one component
    (named `<family>.<Model>`), and name clashes between different models are told apart by pydantic."""
    inputs: list[tuple[Any, JsonSchemaMode, TypeAdapter[Any]]] = []
    for op in family.operations.values():
        if op.body is not None and not isinstance(op.body, dict):
            inputs.append((("body", id(op)), "validation", TypeAdapter(op.body)))
        if not isinstance(op.reply, dict):
            inputs.append((("reply", id(op)), "serialization", TypeAdapter(op.reply)))
        for param in op.query:
            if not isinstance(param.shape, dict):
                inputs.append((("param", id(op), param.name), "validation", TypeAdapter(param.shape)))
    inputs.append((("error",), "serialization", TypeAdapter(family.error)))
    template = f"#/components/schemas/{family.name}.{{model}}"
    found, definitions = TypeAdapter.json_schemas(inputs, ref_template=template)
    schemas = {key: schema for (key, _mode), schema in found.items()}
    return Rendered(
        bodies={id(op): _given(op.body, schemas, ("body", id(op))) for op in family.operations.values() if op.body},
        replies={id(op): _given(op.reply, schemas, ("reply", id(op))) for op in family.operations.values()},
        params={
            (id(op), param.name): _given(param.shape, schemas, ("param", id(op), param.name))
            for op in family.operations.values()
            for param in op.query
        },
        error=schemas[("error",)],
        components={f"{family.name}.{name}": schema for name, schema in definitions.get("$defs", {}).items()},
    )


def _given(shape: Shape, generated: Mapping[Any, JsonSchema], key: Any) -> JsonSchema:
    return shape if isinstance(shape, dict) else generated[key]


def routed_operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    """(path, method, handler) of every operation the app publishes."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if method not in ("OPTIONS", "HEAD") and handler.resolve_include_in_schema():
                yield route.path_format or "/", method.lower(), handler


def handler_function(handler: HTTPRouteHandler) -> Callable[..., Any]:
    """The function a handler wraps (a controller's handlers hold it bound to the controller instance)."""
    return getattr(handler.fn, "__func__", handler.fn)


def describe(app: Litestar, families: Sequence[Family]) -> OpenAPI:
    """Write every family's descriptions into `app`'s OpenAPI document (built now, then served as it is)."""
    openapi = app.openapi_schema
    openapi.components.security_schemes = dict(SECURITY_SCHEMES)
    index = {function: family for family in families for function in family.described}
    for family in families:
        for name, schema in render(family).components.items():
            openapi.components.schemas[name] = RawSchema(raw=schema)
    paths = openapi.paths or {}
    for path, method, handler in routed_operations(app):
        owner = index.get(handler_function(handler))
        operation = getattr(paths[path], method) if owner is not None else None
        if owner is not None and operation is not None:
            _fill(operation, owner, owner.described[handler_function(handler)])
    return openapi


def _fill(operation: Operation, family: Family, op: Op) -> None:
    rendered = render(family)
    operation.tags = [family.name]
    operation.description = op.description or operation.description
    operation.security = [{}] if op.public else [{scheme: []} for scheme in family.security]
    path_params = [param for param in operation.parameters or [] if isinstance(param, Parameter)]
    query = [_query_param(param, rendered.params[(id(op), param.name)]) for param in op.query]
    operation.parameters = [*path_params, *query] or None
    operation.request_body = _request_body(op, rendered) if op.body is not None else None
    operation.responses = _responses(family, op, rendered)


def _query_param(param: Param, schema: JsonSchema) -> Parameter:
    schema = _not_null(schema)
    repeated = schema.get("type") == "array"
    return Parameter(
        name=param.name,
        param_in="query",
        schema=RawSchema(raw=schema),
        description=param.description,
        required=param.required,
        style="form" if repeated else None,
        explode=True if repeated else None,
    )


def _not_null(schema: JsonSchema) -> JsonSchema:
    """A query parameter is absent or a string: `X | None` (a model's optional field) publishes as X."""
    options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
    if len(options) == len(schema.get("anyOf", [])):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf" and not (key == "default" and value is None)}
    return {**rest, **options[0]} if len(options) == 1 else {**rest, "anyOf": options}


def _request_body(op: Op, rendered: Rendered) -> RequestBody:
    media = "multipart/form-data" if op.upload else JSON
    return RequestBody(
        content={media: OpenAPIMediaType(schema=RawSchema(raw=rendered.bodies[id(op)]))}, required=op.body_required
    )


def _responses(family: Family, op: Op, rendered: Rendered) -> dict[str, OpenAPIResponse | Reference]:
    reply, error = rendered.replies[id(op)], RawSchema(raw=rendered.error)
    content = {op.reply_media: OpenAPIMediaType(schema=RawSchema(raw=reply))}
    if family.errors_in_200 and op.reply_media == JSON:
        content[JSON] = OpenAPIMediaType(schema=RawSchema(raw={"anyOf": [reply, rendered.error]}))
    elif family.errors_in_200:
        content[JSON] = OpenAPIMediaType(schema=error)  # a file, or the family's error
    if op.stream:
        content["text/event-stream"] = OpenAPIMediaType(schema=RawSchema(raw=EVENT_STREAM))
    described = "The reply" + (" (or, in the family's envelope, its error)" if family.errors_in_200 else "")
    responses: dict[str, OpenAPIResponse | Reference] = {"200": OpenAPIResponse(description=described, content=content)}
    for status, when in family.error_statuses.items():
        if not (status == 401 and op.public):
            responses[str(status)] = OpenAPIResponse(description=when, content={JSON: OpenAPIMediaType(schema=error)})
    return responses
