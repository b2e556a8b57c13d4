// viewflow's staff frontend (loaded by templates/viewflow/base.html): the behaviour viewflow 2.4
// writes in onclick attributes, which the Content-Security-Policy does not run.
"use strict";

// <a data-history-back="revisit">: go back one page, then reload it through Turbo so that it shows
// the tasks as they are now (viewflow's "Back" on the bulk assign/unassign pages).
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("[data-history-back]") : null;
  if (link === null) {
    return;
  }
  event.preventDefault();
  window.history.back();
  if (link.getAttribute("data-history-back") === "revisit") {
    setTimeout(() => window.Turbo.visit("."), 100);
  }
});
