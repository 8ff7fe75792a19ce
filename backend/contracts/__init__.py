"""Contracts: the small types and registries that cross domains.

They import no domain (import-linter checks it). Domains register implementations here when
the composer installs them (`backend.domains.install`); consumers such as the recommender read
only these contracts, so the floors above stay free to change.
"""
