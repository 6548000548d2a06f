"""Policy packs: moved to `brightline.calendar.policy`, which every service reads (one source of
truth for every limit). Re-exported here for the SLA monitor's modules and tests."""

from brightline.calendar.policy import (  # noqa: F401
    DEFAULT_PACK,
    DEFAULT_WARN_AT,
    EscalationLevel,
    Limit,
    NoPolicyInForce,
    Parameter,
    PolicyBook,
    PolicyError,
    PolicyPack,
    Target,
    Unit,
    adopted_book,
    check_transfer_before_reply,
    limit_due,
    load_pack,
    load_pack_file,
    load_packs,
    pack_names,
    parse_pack,
    transfer_key,
)
