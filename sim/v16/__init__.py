"""The simulator's OCPP 1.6 modules (handlers); 2.0.1 is one more such package."""
