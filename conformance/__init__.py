"""Conformance suite: a pytest plugin (`conformance.plugin`) and OCTT-numbered cases, both roles.

ChargeBench plays the other end of the system under test: the charge point when a CSMS is tested
(`--cb-role csms`), the CSMS when a charge point is tested (`--cb-role cp`). `catalog.yaml` lists
every case; `chargebench conform` runs them.
"""
