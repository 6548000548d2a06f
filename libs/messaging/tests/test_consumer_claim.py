"""The consumer's inbox claim for a batch is one statement whatever the batch's size: SQLAlchemy
compiles it once (a multi-row VALUES has no cache key and was compiled for every batch)."""

from sqlalchemy.dialects import postgresql

from brightline.messaging.unit_of_work import CLAIM


def test_a_batch_claims_its_inbox_rows_with_one_cached_statement():
    assert CLAIM._generate_cache_key() is not None
    compiled = CLAIM.compile(dialect=postgresql.asyncpg.dialect())
    # three parameters, the batch's ids and types as arrays: the text never changes with the size
    assert sorted(compiled.params) == [
        "riding_inbox_consumer",
        "riding_inbox_ids",
        "riding_inbox_types",
    ]
