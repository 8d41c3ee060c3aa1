"""Each document carries the SHA-256 of its bytes (`content_sha256`): what `nectar ingest` compares to skip a file."""

from __future__ import annotations

import hashlib

import asyncpg

from service.db.engine import asyncpg_dsn, upgrade
from tests.api.ragflow.helpers import Client, call, new_dataset, upload
from tests.conftest import Caller, create_database


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_upload_and_list_show_the_hash_of_the_bytes(client: Client, caller: Caller) -> None:
    dataset = await new_dataset(client, caller, "hashed")
    first, same_name, same_bytes = await upload(
        client, caller, dataset["id"], ("a.txt", b"alpha"), ("a.txt", b"beta"), ("copy.txt", b"alpha")
    )
    assert [first["content_sha256"], same_name["content_sha256"], same_bytes["content_sha256"]] == [
        sha256(b"alpha"),
        sha256(b"beta"),
        sha256(b"alpha"),
    ]
    listed = await call(client, caller, "GET", f"/datasets/{dataset['id']}/documents")
    assert {doc["name"]: doc["content_sha256"] for doc in listed["data"]["docs"]} == {
        "a.txt": sha256(b"alpha"),
        "a(1).txt": sha256(b"beta"),
        "copy.txt": sha256(b"alpha"),
    }


async def test_migration_0012_hashes_the_documents_stored_before_it(server_url: str) -> None:
    url = await create_database(server_url)
    await upgrade(url, "0011")
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("""
            INSERT INTO tenants (id, name) VALUES ('t1', 'org');
            INSERT INTO datasets (id, tenant_id, name, avatar, description, embedding_model, permission, chunk_method,
                                  parser_config, pagerank, language, similarity_threshold, vector_similarity_weight)
                VALUES ('d1', 't1', 'kb', '', '', 'all-MiniLM-L6-v2@Builtin', 'me', 'naive', '{}', 0, 'English',
                        0.2, 0.3);
            INSERT INTO documents (id, tenant_id, dataset_id, name, suffix, doc_type, size, chunk_method,
                                   parser_config, meta_fields, enabled, run, progress, progress_msg,
                                   process_duration, chunk_count, token_count, created_by)
                SELECT 'doc' || n, 't1', 'd1', n || '.txt', 'txt', 'doc', 5, 'naive', '{}', '{}', true, 'DONE', 1,
                       '', 0, 1, 1, 't1'
                FROM generate_series(1, 2) AS n;
            INSERT INTO document_files (document_id, tenant_id, data)
                VALUES ('doc1', 't1', 'hello'::bytea), ('doc2', 't1', '\\x00ff'::bytea);
        """)
        await upgrade(url, "0012")
        rows = await connection.fetch("SELECT id, content_sha256 FROM documents ORDER BY id")
        assert [tuple(row) for row in rows] == [("doc1", sha256(b"hello")), ("doc2", sha256(b"\x00\xff"))]
    finally:
        await connection.close()
