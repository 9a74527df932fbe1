"""What only OCPP 2.0.1 has: its version object (the core stays version-free)."""

from chargebench.ocppj.versions import OCPP201

__all__ = ["OCPP201"]
