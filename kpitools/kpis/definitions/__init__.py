"""Every KPI of the catalogue, by department; importing this package registers them.

Registration order is report order: departments in the order below, KPIs in file order.
Each module declares its measure groups (one database query each) and the KPIs computed from
them; a KPI's docstring is its exact definition.
"""

from . import adoption, common, marketing, perception, sales, service  # noqa: F401
