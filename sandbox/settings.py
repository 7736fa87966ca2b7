"""Settings shared by the sandbox's servers; some can be changed at run time through the admin API."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

DEFAULT_URL_EXPIRY_SECONDS = 30 * 60  # the backend's PRESIGNED_URL_EXPIRY_SECONDS
DEFAULT_PROCESSING_DELAY_SECONDS = 3.0


@dataclass
class RuntimeSettings:
    portal_origin: str
    generation: str = "current"
    token_lifetime: int = 36000
    url_expiry_seconds: int = DEFAULT_URL_EXPIRY_SECONDS
    # Seconds from submit (or edit) to PROCESSED; the entry is IN_PROCESSING for the second half.
    processing_delay_seconds: float = DEFAULT_PROCESSING_DELAY_SECONDS
    # Filled in once the servers listen.
    website_url: str = ""
    backend_url: str = ""
    keycloak_url: str = ""
    s3_url: str = ""  # what presigned URLs point at (the S3 proxy when it runs)
    s3_direct_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def issuer(self) -> str:
        return f"{self.keycloak_url}/realms/loculus"

    @property
    def refresh_lifetime(self) -> int:
        # Refresh tokens outlive access tokens, as Keycloak's SSO idle timeout does.
        return max(10 * self.token_lifetime, 3600)
