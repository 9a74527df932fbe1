"""The reference CSMS speaking OCPP 2.0.1 (issue 18)."""
