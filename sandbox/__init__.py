"""A local stand-in for a Loculus instance: website config, Keycloak-shaped OIDC, backend and S3.

Run it with ``python -m sandbox``; see ``sandbox/README.md``. The portal never imports this package.
"""
