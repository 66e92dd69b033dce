"""The HTTP service (FastAPI): `create_app(settings)` in main.py, one router per resource.

It arrives with the service issue. Routes stay thin and call the `notary` library; HTTP
status codes live here and nowhere in `notary/`.
"""
