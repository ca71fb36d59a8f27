"""Hostile servers: one small server per attack (secrets to another origin, endless or huge
bodies, slow senders, hostile realms). Every server listens on 127.0.0.1 only, every loop in
it is bounded and checks a stop flag, and every test ends by itself."""
