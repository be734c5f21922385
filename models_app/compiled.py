"""Queries built once per process and run with new ids each time (docs/performance.md#queries-built-once).

Building a query with the ORM and compiling it to SQL often costs more than running it: the header's
notification count took 2.4 ms of Python and 0.25 ms in PostgreSQL, on every page a signed-in
person opens. A query that differs from one request to the next only in some ids (the viewer's, the
model's) is built once, with stand-in ids that no row has, and each run puts the real ids in place of
the stand-ins among its parameters. So `build` may use the ids it is given and nothing else that
varies (no clock: `Now()` is SQL, evaluated by the database). An id may be text too (a session's key):
its stand-in is then a word no row holds.

Rows are read where the ORM would read them: the router picks the database (a read replica, when one
is set and the request has not written). `objects` turns them into model instances as iterating the
QuerySet would (its select_related and annotations included), for a lookup as hot as the model page's.
"""

from django.db import connection, connections, router
from django.db.models.query import get_related_populators

# Negative: no row's id. Each is a parameter nothing else in a query is equal to.
STAND_INS = (-730_001, -730_002, -730_003)
TEXT_STAND_INS = ("built-stand-in-1", "built-stand-in-2", "built-stand-in-3")


def _stand_ins(ids) -> list:
    return [(TEXT_STAND_INS if type(i) is str else STAND_INS)[n] for n, i in enumerate(ids)]


def _shape(ids) -> tuple:
    return tuple(type(i) is str for i in ids)


class Built:
    """`build(*ids)` -> a QuerySet; `rows(*ids)` runs its SQL for these ids, `objects(*ids)` gives
    its model instances."""

    def __init__(self, build):
        self.build = build
        self._sql: dict[tuple, tuple[str, tuple]] = {}
        self._model = None
        self._instances: dict[tuple, _Instances] = {}

    def forget(self) -> None:
        """Build again on the next run (what `build` reads changed, e.g. a registry)."""
        self._sql.clear()
        self._instances.clear()

    def sql(self, *ids: int | str) -> tuple[str, list]:
        key = (connection.vendor, _shape(ids))
        if key not in self._sql:
            query = self.build(*_stand_ins(ids))
            self._sql[key], self._model = query.query.sql_with_params(), query.model
        sql, params = self._sql[key]
        return sql, _with_ids(params, ids)

    def rows(self, *ids: int | str) -> list[tuple]:
        sql, params = self.sql(*ids)
        with connections[router.db_for_read(self._model)].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def objects(self, *ids: int | str) -> list:
        """The QuerySet's model instances for these ids."""
        query = None
        if self._model is None:  # the router needs the model before the query is compiled
            query = self.build(*_stand_ins(ids))
            self._model = query.model
        db = router.db_for_read(self._model)
        key = (db, _shape(ids))
        if key not in self._instances:
            self._instances[key] = _Instances(
                query if query is not None else self.build(*_stand_ins(ids)), db
            )
        return self._instances[key].run(ids)


def _with_ids(params, ids) -> list:
    real = dict(zip(_stand_ins(ids), ids, strict=True))
    # type() is int: a bool is an int too, and False is no stand-in.
    return [real.get(p, p) if type(p) in (int, str) else p for p in params]


class _Instances:
    """A QuerySet compiled for one database, and what turns its rows into instances: the steps of
    Django's ModelIterable after its execute_sql (query.py), with the compiling done once."""

    def __init__(self, queryset, db: str):
        self.db = db
        self.compiler = queryset.query.get_compiler(db)
        self.sql, self.params = self.compiler.as_sql()  # also fills select and klass_info
        info = self.compiler.klass_info
        self.model = info["model"]
        self.start, self.end = info["select_fields"][0], info["select_fields"][-1] + 1
        self.fields = [column[0].target.attname for column in self.compiler.select[self.start : self.end]]
        self.related = get_related_populators(info, self.compiler.select, db)
        self.annotations = self.compiler.annotation_col_map.items()
        # The fields' converters (SQLite's dates, JSON), found once: results_iter looks them up again
        # on every run (5% of a signed-in viewer's kept model page in a profile).
        self.columns = [column[0] for column in self.compiler.select[: self.compiler.col_count]]
        self.converters = self.compiler.get_converters(self.columns)
        self.composite = self.compiler.has_composite_fields(self.columns)

    def run(self, ids) -> list:
        # The cursor is this thread's; the kept compiler only lends its converters (no I/O).
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, _with_ids(self.params, ids))
            rows = cursor.fetchall()
        found = []
        if self.converters:  # as results_iter applies them
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.composite:
            rows = self.compiler.composite_fields_to_tuples(rows, self.columns)
        for row in rows:
            instance = self.model.from_db(self.db, self.fields, row[self.start : self.end])
            for populator in self.related:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found
