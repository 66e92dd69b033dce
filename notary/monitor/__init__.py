"""Infringement early warning (issue 10): fingerprints, the watch index, captures and alerts."""
