"""A search result as a file: CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) or
XLSX (openpyxl, write-only). Times in the business timezone; hidden fields stay empty."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from brightline.records.api.schemas import TicketRead

COLUMNS = (
    ("ticket_no", "工单号"),
    ("ticket_type", "类型"),
    ("status", "状态"),
    ("recorded_at", "受理时间"),
    ("owner", "首问负责人"),
    ("unit_id", "处理单位"),
    ("has_breached", "超时"),
    ("caller_name", "客户姓名"),
    ("phone", "联系电话"),
    ("address", "地址"),
    ("ticket_id", "ticket_id"),
)


def _cells(row: TicketRead, tz: ZoneInfo) -> list[str]:
    cells = []
    for name, _ in COLUMNS:
        value = getattr(row, name)
        if name == "recorded_at" and value is not None:
            value = value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        elif name == "has_breached":
            value = "是" if value else "否"
        cells.append("" if value is None else str(value))
    return cells


def csv_text(rows: Iterable[TicketRead], tz: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow(_cells(row, tz))
    return out.getvalue()


def xlsx(rows: Iterable[TicketRead], tz: ZoneInfo) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append([label for _, label in COLUMNS])
    for row in rows:
        sheet.append(_cells(row, tz))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
