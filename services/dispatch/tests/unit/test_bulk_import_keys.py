"""A bulk import naming one key twice is refused at the edge, naming the field, before any
statement runs (the fuzzer found the 500 PostgreSQL gives for an ON CONFLICT that would
update one row twice)."""

import pytest
from pydantic import ValidationError

from brightline.dispatch.api.schemas import ServiceAreaImport, TopologyImport


def test_a_transformer_named_twice_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        TopologyImport.model_validate(
            {"transformers": [{"transformer_id": "T1"}, {"transformer_id": "T1"}]}
        )
    [error] = refused.value.errors()
    assert error["loc"] == ("transformers",)
    assert "items 0 and 1" in error["msg"]


def test_a_meter_or_area_named_twice_is_refused_and_distinct_ones_pass():
    with pytest.raises(ValidationError):
        TopologyImport.model_validate({"meters": [{"meter_no": "M", "transformer_id": "T"}] * 2})
    with pytest.raises(ValidationError):
        ServiceAreaImport.model_validate(
            {"areas": [{"area_code": "A", "unit_id": "U", "area_class": "urban"}] * 2}
        )
    ok = TopologyImport.model_validate(
        {"transformers": [{"transformer_id": "T1"}, {"transformer_id": "T2"}]}
    )
    assert [t.transformer_id for t in ok.transformers] == ["T1", "T2"]
