"""Tests of geo_app."""
