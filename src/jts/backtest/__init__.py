"""Backtests: the trading kernel replayed over stored bars, measured and fingerprinted.

Business code: it drives the kernel it is given and computes results from fills and the
equity curve, without I/O. ``jts.app.backtest`` wires the data, stores and files.
"""
