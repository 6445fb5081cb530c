"""Directives (văn bản chỉ đạo): numbered, dated documents that assign tasks to units."""
