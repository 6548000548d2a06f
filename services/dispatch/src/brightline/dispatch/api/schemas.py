from datetime import datetime

from pydantic import BaseModel


class WorkOrderRead(BaseModel):
    id: str
    ticket_id: str
    unit_id: str
    area_class: str
    status: str
    created_at: datetime
