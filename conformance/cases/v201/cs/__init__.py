"""OCPP 2.0.1 cases with a Charging Station under test (ChargeBench plays the CSMS)."""
