"""The interfaces the services need, one module per area. Adapters implement them; tests may
substitute fakes.

Each repository write is atomic: it commits every item it touches (the entity, its uniqueness
markers, its membership records) in one transaction, or nothing.
"""
