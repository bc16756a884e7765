"""The operators' view of the whole product: the ops dashboard and the daily report, composed
from the apps' doors, the kernel and the metrics (docs/operations.md#the-ops-dashboard)."""
