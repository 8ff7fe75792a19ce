"""The LLM domain: tip candidates written ahead of time by workers (DESIGN.md §3, §7)."""
