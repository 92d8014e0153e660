"""One body per page of the registry (cxdash.ui.registry); pages/*.py are the scripts that call them."""
