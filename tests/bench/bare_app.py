"""The bare FastAPI baseline: JSON in, JSON out, no database, no auth."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Echo(BaseModel):
    n: int
    text: str


@app.get("/healthz")
async def healthz() -> dict:
    return {"ok": True}


@app.post("/echo", status_code=201)
async def echo(body: Echo) -> dict:
    return {"id": str(body.n), "text": body.text}
