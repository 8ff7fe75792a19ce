"""The Todoist stand-in, by responsibility (import it from ``tests.support.todoist_standin``).

* ``api_base``  the data-API layer shared with ``calendar_standin``: routes with path parameters,
  request log, ``fail_next``, paging cursors (``ApiStandIn``).
* ``model``     Todoist's objects and wire formats: accounts, tokens, codes, due dates, webhook
  deliveries and signatures, error bodies.
* ``state``     the stand-in's state: accounts, projects, tasks, completions and issued tokens.
* ``oauth``     ``/oauth/*`` and ``/api/v1/revoke``.
* ``api``       ``/api/v1/*`` data endpoints (auth, paging, filters, close / reopen, completed).
* ``webhooks``  signed webhook deliveries the stand-in sends to the app.
* ``standin``   ``TodoistStandIn``: the above put together and routed; its docstring has the
  behaviour.
"""
