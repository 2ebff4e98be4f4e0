"""The application: configuration, pipeline, maps, CLI and reports."""

__version__ = "0.1.0"
