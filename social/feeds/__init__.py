"""The home timeline: fan-out on write (``fanout``) and the one-statement read (``home``)."""
