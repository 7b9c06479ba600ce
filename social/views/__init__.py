"""Server-rendered social pages, with htmx for likes, follows and "load more"; one module per
subdomain: ``feeds`` (home, explore, tags, bookmarks, profiles and their people lists),
``posts``, ``relationships``, ``notifications``, ``search``.

Each view parses input, calls one service or selector, and renders what ``social.presenters``
built. Service errors become form errors or messages; htmx requests get the partial they swap
in, or (for a failed in-place action) the error as a toast event (``_common.htmx_error``).
"""
