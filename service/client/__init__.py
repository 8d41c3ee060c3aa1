"""`nectar ingest | ask | search`: a client of Nectar's RAGFlow HTTP API, so it works against a remote server too.

Nothing here imports the domain, the database or the app: every answer comes over HTTP (tests/unit checks it).
"""
