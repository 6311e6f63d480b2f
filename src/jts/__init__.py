"""JTS: an automated trading platform for Korean equities and crypto.

The package is layered (see ARCHITECTURE.md): ``domain`` < ``ports`` < ``core``/``sim``
< ``brokers``/``bus``/``storage`` < ``strategy`` < ``services`` < ``app`` < ``cli``.
"""

__version__ = "0.1.0"
