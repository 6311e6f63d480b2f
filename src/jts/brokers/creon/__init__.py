"""Creon Plus (Daishin) support: a Windows bridge over the COM API and an HTTP adapter.

Creon exists only as 32-bit COM objects on a logged-in Windows PC, so the venue
is split in two. ``bridge`` runs there (stdlib, pydantic, fastapi and uvicorn
only, so it installs on a 32-bit Python) and serves market data and orders over
REST; ``adapter.CreonBroker`` is the Linux side, an ordinary JTS broker that
talks HTTP to the bridge. ``schemas`` holds the wire models both sides import
(pydantic and ``jts.domain`` only). Nothing is imported here, so importing the bridge
does not drag in the adapter's dependencies.
"""
