"""Read-only evidence from Google's APIs through the official client libraries.

GCP client objects never leave this package: collectors return plain evidence models.
"""
