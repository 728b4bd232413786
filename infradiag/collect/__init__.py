"""Read-only evidence from Google's APIs through the official client libraries.

GCP client objects never leave this package: collectors return plain evidence models.
"""

# First: lets the collectors import the Google libraries narrowly (see clients.lean_packages).
import infradiag.collect.clients  # noqa: F401
