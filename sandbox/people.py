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

MAX_EXTRA_USERS = 999


def extra_username(number: int) -> str:
    """The name of the `number`-th extra user (1-based): loaduser001, loaduser002, …"""
    return f"loaduser{number:03d}"


def add_extra_users(count: int) -> list[str]:
    """`count` more users, in no group (like newuser): a realm with as many accounts as a load test has people.

    A Keycloak realm has any number of users; the sandbox has no registration page, so a load test
    asks for its people at start-up (`--extra-users`). Each of them may create a group with
    `POST /groups`, as a new lab does on the Loculus website.
    """
    if not 0 <= count <= MAX_EXTRA_USERS:
        msg = f"the number of extra users must be between 0 and {MAX_EXTRA_USERS}, not {count}"
        raise ValueError(msg)
    names = [extra_username(number) for number in range(1, count + 1)]
    for number, name in enumerate(names, start=1):
        USERS[name] = User(name, "Load", f"User {number:03d}")
    return names


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
