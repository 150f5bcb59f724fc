"""egorag scene splitters."""
