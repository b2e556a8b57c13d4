"""The one lock order of the approvals domain. Take locks in this order, never the reverse:

1. the viewflow process row (``SELECT … FOR UPDATE`` by the flow's ``lock_impl``, around every task
   POST, timer and ``Handle.run``);
2. the ``Application`` row (``select_for_update`` in every transition service, before the status
   check under the lock);
3. ``ReferenceSequence`` rows (reference and certificate numbers), always last and only inside
   the submitting or deciding transaction, so numbering never waits on anything else.

Calendar edits lock the newest ``CalendarVersion`` row and take no application lock.
"""
