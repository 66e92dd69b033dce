"""Early warning: perceptual fingerprints of designs, watch lists, captures and alerts.

fingerprint.py and index.py are pure computation (no store); the other modules keep the
monitor's rows in the store and are used by the service (notary.service.NotaryService).
"""
