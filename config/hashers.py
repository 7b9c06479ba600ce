"""Password hashing used only by the test suite.

The same Argon2id algorithm as production (hashes stay compatible), with small cost parameters:
Django's defaults spend ~100 MiB and tens of milliseconds per hash, which dominates a suite
that signs users in thousands of times.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class TestingArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
