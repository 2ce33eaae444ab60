"""Use cases. Each public function says what it guarantees and what it raises."""
