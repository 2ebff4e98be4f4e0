"""Workflows: layers wired to the analysis kernels for a study area, returning typed results."""
