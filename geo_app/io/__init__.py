"""Writing results out: exports, the project file, reports and rendering through Chromium."""
