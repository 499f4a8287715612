"""The Lingtan VPP edge agent: poll, protect, execute offline, store-and-forward."""

__all__: list[str] = []
