"""The REST API (`/api/v1`): flask-smorest with our error shape, one package per resource.

Every resource package holds `routes.py` (its blueprint) and `schemas.py`; `service.app` registers them.
The API depends on `service.core` only, never on `jobs/`.
"""
