"""The sample application ariscale was specified with, completed with the call that starts it.

Run it from the checkout after ``make up``: ``uv run python samples/bridge_app.py``; then dial
8000 (``make call N=4``). Every caller joins bridge ``conf``, whichever node took the call.
"""

import asyncio

from app_sdk import Application, Config

APP_ID = "conf"
APP_NAME = "conf"
BRIDGE_ID = "conf"

class BridgeApplication(Application):

    async def on_start(self, context):
        await self.get_or_create_bridge(context, BRIDGE_ID, "mixing")
        await self.answer(context)

    async def on_up(self, context):
        await self.bridge_add_channel(context, BRIDGE_ID)

def main():
    config = Config()
    app = BridgeApplication(config, APP_ID, APP_NAME)
    app.run()


if __name__ == "__main__":
    main()
