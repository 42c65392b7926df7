"""Write a Stasis application in a few lines; it serves calls on every node of the cluster."""

from app_sdk.application import Application
from app_sdk.client import AriRequestError
from app_sdk.config import Config
from app_sdk.context import CallContext

__all__ = ["Application", "AriRequestError", "CallContext", "Config"]
