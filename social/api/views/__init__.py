"""The social API, one module per subdomain: ``posts`` (posts, replies, likes, reposts,
bookmarks, pins), ``feeds``, ``relationships``, ``notifications``, ``search``, ``reports``.

Views parse input, call one service or selector and return what ``social.presenters`` built.
Lists are cursor paginated and built from ``values()`` rows (see social/README.md).
"""
