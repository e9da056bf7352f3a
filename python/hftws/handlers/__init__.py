"""Message handlers: the template method and its public/private specialisations."""

from hftws.handlers.base import BaseMessageHandler
from hftws.handlers.private import PrivateMessageHandler
from hftws.handlers.public import PublicMessageHandler

__all__ = ["BaseMessageHandler", "PrivateMessageHandler", "PublicMessageHandler"]
