"""Demo users and groups of the sandbox realm (password = username)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

BASE_ROLES = ("user", "offline_access")


@dataclass(frozen=True)
class User:
    username: str
    given_name: str
    family_name: str
    extra_roles: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        return self.username

    @property
    def email(self) -> str:
        return f"{self.username}@sandbox.loculus.invalid"

    @property
    def roles(self) -> list[str]:
        return [*BASE_ROLES, *self.extra_roles]

    @property
    def sub(self) -> str:
        # Stable per user so that tokens survive a sandbox restart in the same test run.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-user:{self.username}"))


USERS: dict[str, User] = {
    user.username: user
    for user in [
        User("testuser", "Test", "User"),
        User("newuser", "New", "User"),
        User("superuser", "Super", "User", ("super_user",)),
        User("otheruser", "Other", "User"),
        # Service account as Keycloak has it; may request upload URLs for any group (contract §1.1).
        User("preprocessing_pipeline", "Preprocessing", "Pipeline", ("preprocessing_pipeline",)),
    ]
}


@dataclass
class Group:
    group_id: int
    group_name: str
    institution: str
    address: dict[str, str]
    contact_email: str
    members: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "groupId": self.group_id,
            "groupName": self.group_name,
            "institution": self.institution,
            "address": dict(self.address),
            "contactEmail": self.contact_email,
        }


def seed_groups() -> dict[int, Group]:
    return {
        1: Group(
            1,
            "Sandbox Lab Berlin",
            "Sandbox Institute of Virology",
            {
                "line1": "Invalidenstraße 1",
                "line2": "",
                "city": "Berlin",
                "state": "Berlin",
                "postalCode": "10115",
                "country": "Germany",
            },
            "berlin-lab@sandbox.loculus.invalid",
            ["testuser"],
        ),
        2: Group(
            2,
            "Sandbox Lab Kampala",
            "Sandbox Virus Research Unit",
            {
                "line1": "Plot 51-59 Nakiwogo Road",
                "line2": "",
                "city": "Kampala",
                "state": "Central Region",
                "postalCode": "00256",
                "country": "Uganda",
            },
            "kampala-lab@sandbox.loculus.invalid",
            ["testuser"],
        ),
        3: Group(
            3,
            "Other Lab",
            "Other University",
            {
                "line1": "1 Other Street",
                "line2": "",
                "city": "Basel",
                "state": "",
                "postalCode": "4051",
                "country": "Switzerland",
            },
            "other-lab@sandbox.loculus.invalid",
            ["otheruser"],
        ),
    }
