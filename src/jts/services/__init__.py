"""Business services; they talk through the bus and are built by ``jts.services.kernel``."""
