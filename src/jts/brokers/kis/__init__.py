"""KIS (Korea Investment & Securities) Open API: REST and real-time WebSocket, async."""
