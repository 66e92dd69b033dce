"""The baselines: bare FastAPI endpoints that parse the same JSON as the notary's deposits.

`/bare` is a plain `def` endpoint (FastAPI runs it in its worker threads), `/bare-async` an
`async def` one (runs on the event loop, as the notary's deposit endpoint does); the
benchmark measures both and compares the notary with the faster. `/bare-bulk` parses and
validates a 10,000-item bulk body with the notary's own model and answers its length: the
baseline of bulk deposits.
"""

from fastapi import FastAPI

from api.schemas import BulkDepositIn, HashDepositIn

app = FastAPI()


@app.post("/bare")
def bare(body: HashDepositIn) -> dict[str, str]:
    return {"sha256": body.sha256}


@app.post("/bare-async")
async def bare_async(body: HashDepositIn) -> dict[str, str]:
    return {"sha256": body.sha256}


@app.post("/bare-bulk")
async def bare_bulk(body: BulkDepositIn) -> dict[str, int]:
    return {"items": len(body.items)}
