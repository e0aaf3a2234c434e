"""Drawing: the render system's canvas, the HUD and the error overlay (the only pygame users besides app)."""
