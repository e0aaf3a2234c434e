"""A live-coding ECS sandbox: esper + numpy columns in Python, systems in hot-reloaded Zig."""
