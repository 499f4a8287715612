"""The Lingtan VPP hub: catalogue, aggregation, ingest, dispatch, markets (Litestar)."""

__all__: list[str] = []
