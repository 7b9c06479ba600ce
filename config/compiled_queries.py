"""A queryset's SQL compiled once per process, then run with other parameter values.

Building an ORM query (clone, filter, resolve the lookups, compile) costs several times the CPU
of running a one-row ``SELECT`` by primary key or unique column: for the session's user on every
signed-in request, for a profile page's owner (bench/RESULTS.md, "The fixed cost of a signed-in
request" and "HTML pages"). ``CompiledQuery`` compiles the queryset once, with placeholder
values, and each call runs that SQL with the real values, turning rows into model instances as
``QuerySet`` iteration does (``select_related`` included, through Django's own related
populators). On PostgreSQL the statement is also prepared, once per connection
(``config.postgresql.prepared``).

It keeps the queryset's meaning only where the values reach the SQL unchanged: the placeholders
must appear as themselves in the compiled parameters, in order. Where a lookup rewrites its
value (SQLite's ``iexact`` is ``LIKE`` with the value escaped, say), ``compile`` returns None.
``PrecompiledQuery`` is what callers hold: it compiles on first use and runs the ORM instead
where the queryset cannot be compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # Django's ModelIterable uses it

from config.postgresql.prepared import prepared_cursor

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class CompiledQuery(Generic[M]):
    """The SQL of one queryset with its parameters' positions (``compile``)."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # where each of ``rows``' values goes in ``params``
    compiler: Any
    converters: dict[int, Any]  # the compiler's, for the selected columns, found once
    populators: tuple[Any, ...]  # select_related's, stateless once built
    model: type[M]
    init_list: list[str]
    model_columns: slice
    using: str

    @classmethod
    def compile(
        cls, build: Callable[..., QuerySet[M]], *placeholders: Any, using: str = DEFAULT_DB_ALIAS
    ) -> CompiledQuery[M] | None:
        """``build(*placeholders)`` compiled; None when a placeholder does not reach the
        parameters as itself (once each), or the queryset is not a plain model query."""
        queryset = build(*placeholders)
        # values() rows are not instances; annotations are not model fields.
        if queryset._fields is not None or queryset.query.annotation_select:  # type: ignore[attr-defined]
            return None
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = []
        for placeholder in placeholders:
            found = [
                i
                for i, value in enumerate(params)
                if value == placeholder and type(value) is type(placeholder)
            ]
            if len(found) != 1:
                return None
            slots.append(found[0])
        klass_info = compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return cls(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            converters=compiler.get_converters(
                [column[0] for column in compiler.select[: compiler.col_count]]
            ),
            populators=tuple(get_related_populators(klass_info, compiler.select, using)),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in compiler.select[first:last]],
            model_columns=slice(first, last),
            using=using,
        )

    def fetch(self, *values: Any) -> list[Any]:
        """The raw rows for ``values`` in the placeholders' places."""
        params = list(self.params)
        for slot, value in zip(self.slots, values, strict=True):
            params[slot] = value
        connection = connections[self.using]
        # On PostgreSQL also prepared, once per connection: no parse and plan per call either.
        cursor = prepared_cursor(self.using) if connection.vendor == "postgresql" else connection.cursor()
        with cursor:
            cursor.execute(self.sql, params)
            return cursor.fetchall()

    def instances(self, rows: list[Any]) -> list[M]:
        """``rows`` of ``fetch`` as the queryset's model instances (``ModelIterable``'s steps:
        converters, ``from_db``, then each ``select_related`` instance put in its cache)."""
        if not rows:
            return []
        compiler = self.compiler
        if self.converters:
            rows = list(compiler.apply_converters(rows, self.converters))
        objects = []
        for row in rows:
            obj = self.model.from_db(self.using, self.init_list, row[self.model_columns])
            for populator in self.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects

    def first(self, *values: Any) -> M | None:
        """The first instance for ``values`` (the queryset should be ordered or unique)."""
        rows = self.fetch(*values)
        return self.instances(rows[:1])[0] if rows else None


class PrecompiledQuery(Generic[M]):
    """``build(*values).first()``, through a ``CompiledQuery`` compiled on first use (the app
    registry must be ready by then, not at import), or through the ORM where ``compile``
    refuses the queryset."""

    def __init__(self, build: Callable[..., QuerySet[M]], *placeholders: Any) -> None:
        self._build = build
        self._placeholders = placeholders
        self._compiled: CompiledQuery[M] | None = None
        self._tried = False

    def first(self, *values: Any) -> M | None:
        if not self._tried:
            self._compiled = CompiledQuery.compile(self._build, *self._placeholders)
            self._tried = True
        if self._compiled is None:
            return self._build(*values).first()
        return self._compiled.first(*values)
