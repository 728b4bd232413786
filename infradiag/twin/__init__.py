"""The twin: a local stand-in for one GCP project, served on loopback from a scenario file.

No pipeline stage imports this package; only the CLI starts it and the tests drive it.
"""
