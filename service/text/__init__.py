"""Text in, text out: parsing uploads, chunking, token counts and the full-text form of a text.

Pure functions with no database and no domain imports, so the domain (uploads, manual chunks, retrieval)
and the ingestion worker both use them without depending on each other.
"""
