"""ariscale node agent: the sidecar of one Asterisk node.

* ``registration``: the node in Consul (service ``asterisk``), TTL check following ARI.
* ``app_watch``: the app list from Consul KV drives ``subscriptions`` and ``dialplan_sync``.
* ``subscriptions``: one ARI websocket per app (plus the link app), reconnecting by itself.
* ``dialplan_sync``: globals ``APP_<exten>`` so dialed numbers reach ``Stasis(<app>)``.
* ``publisher``: every ARI event to RabbitMQ (Kombu thread, bounded ``event_buffer``).
* ``main``: the composition root; ``api``: ``/health``.
"""
