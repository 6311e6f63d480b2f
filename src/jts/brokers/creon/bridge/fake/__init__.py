"""A fake Creon for running the bridge off Windows: COM object shapes over a simulated market.

- ``objects``: the COM objects as the bridge sees them (inputs, headers, data
  indices, ``GetDibStatus``/``GetDibMsg1``, ``Continue`` paging), and the factory.
- ``market``: the account and its orders on the shared ``jts.sim`` matching
  engine, Creon's order numbers, ``CpConclusion`` events and test controls.
- ``orders``: one Creon order number as the look-ups show it.
- ``prices``: the seeded price table (daily and minute history) charts read.
- ``counters``: Creon's request counters (60 look-ups, 20 orders per 15 s).
- ``faults``: failures only tests switch on (a dropped answer, a raising COM call).

Unlike the bridge proper, this package may use ``jts.sim``; the production
entry point imports it only for ``--fake`` and never wires a fault.
"""
