"""Live updates: events pushed to browsers within a second or two, without a reload.

Server side (any app above live; any process)::

    from live.publish import publish
    publish("user:7", "call.ringing", {"call": 12, "from": "+48..."})  # sent after commit

Topics: ``pool:<id>``, ``user:<id>``, ``ticket:<number>`` (``live.access``); another kind is
allowed by a rule its app registers in ``ready()``::

    live.access.register("conversation", lambda request, key: ...)  # ?conversation=<key>

Browser side: ``static/js/live.js`` (in base.html for agents) dispatches each event on
document as ``live:<event>`` (detail: the data), and on every element whose
``data-live-topic`` names the event's topic. On the wire each message is
``data: {"event": ..., "topic": ..., "data": {...}}`` with an ``id:`` to resume from;
``live.resync`` means events may have been missed: refresh what you show.
"""
