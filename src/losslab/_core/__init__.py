"""The contract (``Loss``), the registry, input validation and stable numerics."""
