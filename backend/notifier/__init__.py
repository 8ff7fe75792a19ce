"""The notifier domain: Web Push that knows when to interrupt (filled by the Web Push work)."""
