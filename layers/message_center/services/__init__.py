"""Services: the product rules applied to data, one class per area."""
