"""Supplier contacts shared by the inventory DAGs (a module of this repository, not a package)."""

SUPPLIER_EMAILS = {"acme": "orders@acme.example", "globex": "supply@globex.example"}
