"""After dispatch (处置 → 反馈 → 核查 → 回访 → 结案 → 归档): the workflow that wraps the lifecycle actions with
their side records (joint handling, approvals, callbacks, verification, escalation handover), the boxes
(待办 / 已办 / 超时 / 待审批), timers that act on deadlines, and the ledger (台账).

May import: every room below it (`intake`, `fleet`, `cases`, `notify`, `access`, `city`, `store`), the shared
modules, `geo`. Nothing imports it but the adapters (dashboard, workers).
"""
