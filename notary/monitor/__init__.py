"""Infringement early warning: design fingerprints, the watch index, captures and alerts."""
