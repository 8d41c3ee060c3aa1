"""`POST /v1/embeddings` with the server's embedding models (the ones datasets use)."""

from __future__ import annotations

import base64
import struct
from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency

from service.api.openai.errors import ApiError, invalid
from service.api.openai.schemas import json_object, parse_embeddings
from service.errors import DomainError, Unsupported
from service.providers.base import EmbedderFor
from service.providers.embedding import BUILTIN_PROVIDER, canonical_name


def embedding_model(requested: str) -> str:
    """`all-MiniLM-L6-v2` or `all-MiniLM-L6-v2@Builtin` (any case of the provider) → the canonical name."""
    try:
        return canonical_name(requested if "@" in requested else f"{requested}@{BUILTIN_PROVIDER}")
    except Unsupported:
        raise ApiError(400, f"Unsupported model: {requested}", param="model", code="model_not_found") from None
    except DomainError as exc:
        raise ApiError(400, exc.message, param="model", code="model_not_found") from None


def encoded(vector: list[float], encoding_format: str) -> list[float] | str:
    """`base64`: the little-endian float32 bytes, what the OpenAI SDKs ask for by default and decode."""
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
    return vector


@post("/v1/embeddings", status_code=200)
async def create_embeddings(
    request: Request[Any, Any, Any], tenant: NamedDependency[str], embedder: NamedDependency[EmbedderFor]
) -> Response[Any]:
    spec = parse_embeddings(await json_object(request))
    model = embedder(embedding_model(spec.model))
    if spec.dimensions is not None and spec.dimensions != model.dim:
        raise invalid(f"`{spec.model}` only returns {model.dim} dimensions.", param="dimensions")
    vectors = await model.embed(spec.texts)
    tokens = sum(model.count_tokens(text) for text in spec.texts)
    data = [
        {"object": "embedding", "index": index, "embedding": encoded(vector, spec.encoding_format)}
        for index, vector in enumerate(vectors)
    ]
    body = {
        "object": "list",
        "data": data,
        "model": spec.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return Response(body, status_code=200)
