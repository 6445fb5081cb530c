"""Units (đơn vị): the tree of offices, hospitals, health centres and commune stations."""
