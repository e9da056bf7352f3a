"""Handler for private account streams (orders, fills, balances, positions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hftws.events import MessageType
from hftws.handlers.base import BaseMessageHandler, Callback
from hftws.private_events import BalanceUpdate, Execution, OrderUpdate, PositionUpdate


class PrivateMessageHandler(BaseMessageHandler):
    """Routes ORDER_UPDATE, EXECUTION_REPORT, BALANCE_UPDATE and POSITION_UPDATE messages
    (plus PING, SUBSCRIBE and ERROR for the connection itself)."""

    ROUTES: ClassVar[frozenset[MessageType]] = frozenset(
        {
            MessageType.ORDER_UPDATE,
            MessageType.EXECUTION_REPORT,
            MessageType.BALANCE_UPDATE,
            MessageType.POSITION_UPDATE,
            MessageType.PING,
            MessageType.SUBSCRIBE,
            MessageType.ERROR,
        }
    )

    def on_order(self, callback: Callable[[OrderUpdate], Any]) -> Callable[[OrderUpdate], Any]:
        """Order state changes."""
        return self.on(MessageType.ORDER_UPDATE, callback)

    def on_execution(self, callback: Callable[[Execution], Any]) -> Callable[[Execution], Any]:
        """Fills of our own orders."""
        return self.on(MessageType.EXECUTION_REPORT, callback)

    def on_balance(
        self, callback: Callable[[BalanceUpdate], Any]
    ) -> Callable[[BalanceUpdate], Any]:
        """Balance changes."""
        return self.on(MessageType.BALANCE_UPDATE, callback)

    def on_position(
        self, callback: Callable[[PositionUpdate], Any]
    ) -> Callable[[PositionUpdate], Any]:
        """Position changes (futures)."""
        return self.on(MessageType.POSITION_UPDATE, callback)

    def on_error(self, callback: Callback) -> Callback:
        """Error messages, including authentication failures."""
        return self.on(MessageType.ERROR, callback)
