"""console's tables; the first migration creates the messaging tables beside them."""

import sqlalchemy as sa

metadata = sa.MetaData()
