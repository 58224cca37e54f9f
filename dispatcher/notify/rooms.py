"""The Socket.IO room of one user: where that user's notifications are pushed, and nobody else's."""

from __future__ import annotations


def user_room(username: str) -> str:
    """The room every socket of `username` joins (and only theirs)."""
    return f"user:{username}"
