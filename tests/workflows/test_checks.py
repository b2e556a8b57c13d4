from viewflow.workflow import lock

from workflows.checks import check_flow_locks, flows_without_row_lock


class _Unlocked:
    lock_impl = lock.no_lock


class _Locked:
    lock_impl = lock.SelectForUpdateLock(nowait=False)


class _LockedNowait:
    lock_impl = lock.select_for_update_lock


def test_flow_without_row_lock_is_an_error():
    errors = flows_without_row_lock([_Unlocked, _Locked, _LockedNowait])
    assert [error.id for error in errors] == ["workflows.E001"]
    assert errors[0].obj is _Unlocked


def test_project_flows_all_lock_their_process_row():
    assert check_flow_locks() == []
