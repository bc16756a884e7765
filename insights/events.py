"""Facts insights publishes: none yet (it follows the other apps' facts)."""
