"""Events: from the bus to the app's websocket, keeping ownership and the call index in step.

The pipeline, in order: :mod:`.bus_worker` (Kombu thread) → :mod:`.tracking` (ownership, calls)
→ :mod:`.dispatch` (which instance gets a call) → :mod:`.instances` (websockets); :mod:`.grace`
hangs up calls nobody handles.
"""
