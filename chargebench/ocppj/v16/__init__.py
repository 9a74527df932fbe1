"""What only OCPP 1.6 has: its version object and its data tables (the core stays version-free)."""

from chargebench.ocppj.versions import OCPP16

__all__ = ["OCPP16"]
