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


def test_a_node_view_that_cannot_be_imported_is_an_error():
    from workflows.checks import screens_missing

    errors = screens_missing(["web.staff.task_pages.OpenOnOurTaskPage", "web.staff.task_pages.NoSuchPage"])
    assert [error.id for error in errors] == ["workflows.E002"]
    assert "NoSuchPage" in errors[0].msg


def test_every_node_view_of_the_project_imports():
    from workflows.checks import check_node_screens
    from workflows.nodes import SCREENS

    assert check_node_screens() == []
    assert {"web.staff.task_pages.OpenOnOurTaskPage", "web.staff.task_pages.OpenInspectionPage"} == SCREENS
