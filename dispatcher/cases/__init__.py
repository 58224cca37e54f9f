"""The incident (事件/部件 case) and everything that moves it: the lifecycle transition table, the aggregate,
stage clocks on the working calendar, the action handlers (立案, 派遣, 签收, 反馈, 核查, 结案 ...) with their
effects, merging duplicates, which cases a principal may see and act on, the unit of work that commits
rows + timeline + outbox + audit together, and read queries and statistics over cases.

May import: `dispatcher.access`, `dispatcher.city`, `dispatcher.store`, the shared modules, `geo`.
Not `intake`, `fleet` or any room above.
"""
