"""Database statements get client spans only when spans are exported: with no exporter (the
default in production) a span per statement is made and dropped, CPU on every statement."""

from __future__ import annotations

import sqlalchemy as sa

from brightline.platform import telemetry


def engine_traced(monkeypatch, *, exporting: bool) -> bool:
    monkeypatch.setattr(telemetry, "_exporting", exporting)
    engine = sa.create_engine("sqlite://")
    try:
        telemetry.instrument_engine(engine)
        return len(engine.dispatch.before_cursor_execute) > 0
    finally:
        engine.dispose()


def test_no_statement_spans_without_an_exporter(monkeypatch):
    assert not engine_traced(monkeypatch, exporting=False)


def test_statement_spans_when_spans_are_exported(monkeypatch):
    assert engine_traced(monkeypatch, exporting=True)
