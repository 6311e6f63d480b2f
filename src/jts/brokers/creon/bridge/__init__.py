"""The Windows side of Creon: COM objects behind a REST service (``jts-creon-bridge``).

Only stdlib, pydantic, fastapi, uvicorn, ``jts.domain`` and the shared wire
models (``jts.brokers.creon.schemas``) may be imported in this package: it must
install and run on 32-bit Windows Python next to Creon. The fake Creon
(``fake``, for ``--fake`` and tests) may also build on the pure-Python
``jts.sim``; the bridge proper never imports it.
"""
