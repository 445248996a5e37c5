"""Reelgate's core: the job engine, the journal, the gateway client and the demo gateway (no Qt)."""
