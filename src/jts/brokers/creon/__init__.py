"""Creon Plus (Daishin) support: a Windows bridge over the COM API and an HTTP adapter.

Creon exists only as 32-bit COM objects on a logged-in Windows PC, so the venue
is split in two. ``bridge`` runs there (stdlib, pydantic, fastapi and uvicorn
only, so it installs on a 32-bit Python) and serves market data and orders over
REST; the rest of this package is the Linux side, in the venue shape every
broker package has: ``config``, ``http`` (the bridge client), ``schemas`` (the
wire models both sides import: pydantic and ``jts.domain`` only), ``parsing``,
``data`` (MarketDataClient), ``execution`` (ExecutionClient), ``reconciliation``,
``errors`` and ``factory`` (both ports over one bridge client). Nothing is
imported here, so importing the bridge does not drag in the adapter's
dependencies.
"""
