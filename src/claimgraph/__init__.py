"""claimgraph: medical-billing coverage rules as data."""

__version__ = "0.1.0"
