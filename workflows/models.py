"""The process of the standard approval flow: viewflow's Process, linked to our Application.

The application is the artifact (``process.artifact``, an integer key); business data lives in
its real columns, never in the process's JSON.
"""

from __future__ import annotations

from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from approvals.models import Application


class ApplicationProcess(Process):
    class Meta:
        proxy = True
        verbose_name = _("approval process")
        verbose_name_plural = _("approval processes")

    @cached_property
    def application(self) -> Application:
        return Application.objects.select_related(
            "item_version__item", "item_version__lead_department", "item_version__desk_department"
        ).get(pk=self.artifact_object_id)
