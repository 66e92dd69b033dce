"""The baseline: a bare FastAPI endpoint that parses the same JSON as a hash deposit."""

from fastapi import FastAPI

from api.schemas import HashDepositIn

app = FastAPI()


@app.post("/bare")
def bare(body: HashDepositIn) -> dict[str, str]:
    return {"sha256": body.sha256}
