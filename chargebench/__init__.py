"""ChargeBench: OCPP 1.6J reference CSMS, virtual charge points, scenarios, conformance, load."""

__version__ = "0.1.0"
