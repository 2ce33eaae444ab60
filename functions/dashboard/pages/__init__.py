"""The dashboard's pages, one module per section; importing a module registers its routes."""
