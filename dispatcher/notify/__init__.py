"""Notifications: one service that records a notification per recipient and case, with channels as adapters
(in-app, live with an unread count; SMS through a gateway interface).

May import: `dispatcher.access`, `dispatcher.store`, the shared modules. Not `cases` or any room above.
"""

from dispatcher.notify.rooms import user_room

__all__ = ["user_room"]
