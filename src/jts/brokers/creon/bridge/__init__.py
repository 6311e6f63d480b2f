"""The Windows side of Creon: COM objects behind a REST service (``jts-creon-bridge``).

Only stdlib, pydantic, fastapi, uvicorn and ``jts.domain`` may be imported in
this package: it must install and run on 32-bit Windows Python next to Creon.
"""
