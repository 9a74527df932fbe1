"""OCPP 2.0.1 cases with a CSMS under test (ChargeBench plays the Charging Station)."""
