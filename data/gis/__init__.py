"""The bundled compact GIS tables (CSV) and their README, shipped as package data."""
