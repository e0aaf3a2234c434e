"""Window tools over the running game: the entity inspector (F2) and the tunables panel (F3).

Each tool is a model that reads and changes the world through the same APIs the rest of
the host uses (`World.components`, `World.set`, `Pipeline.tune`) and takes keys by their
pygame names, so it is tested without a window; only its `draw` touches pygame. While a
tool is open, the keys and clicks it uses are its own: they reach neither the host's
hotkeys nor the systems' input.
"""
