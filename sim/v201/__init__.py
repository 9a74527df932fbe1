"""The OCPP 2.0.1 charging station: its device model (`sim.v201.device_model`) and session."""
