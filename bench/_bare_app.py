"""The baselines: bare FastAPI endpoints that parse the same JSON as a hash deposit.

`/bare` is a plain `def` endpoint (FastAPI runs it in its worker threads), `/bare-async` an
`async def` one (runs on the event loop, as the notary's deposit endpoint does); the
benchmark measures both and compares the notary with the faster.
"""

from fastapi import FastAPI

from api.schemas import HashDepositIn

app = FastAPI()


@app.post("/bare")
def bare(body: HashDepositIn) -> dict[str, str]:
    return {"sha256": body.sha256}


@app.post("/bare-async")
async def bare_async(body: HashDepositIn) -> dict[str, str]:
    return {"sha256": body.sha256}
