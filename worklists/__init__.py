"""Work rules (locate, IWO, levy, licence suspension, match review), idempotency keys, routing, exports."""

from worklists.rules import (
    ITEM_KINDS,
    ITEM_SCHEMA,
    RULES,
    RulesConfig,
    RunInfo,
    build_work_items,
    iwo_due_date,
)

__all__ = ["ITEM_KINDS", "ITEM_SCHEMA", "RULES", "RulesConfig", "RunInfo", "build_work_items", "iwo_due_date"]
