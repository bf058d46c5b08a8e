"""Every write of the logistics app: shipping, scans, runs, the SLA watch, fleet."""

from .dispatches import dispatch_arrive, dispatch_cancel, dispatch_create, dispatch_depart  # noqa: F401
from .fleet import courier_create, vehicle_create  # noqa: F401
from .overdue import shipments_flag_overdue  # noqa: F401
from .shipments import shipment_create, shipment_scan  # noqa: F401
