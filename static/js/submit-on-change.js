// A <select data-submit-on-change> submits its form as soon as a choice is made (the admin's
// language menu). A static file rather than an onchange= attribute: the Content-Security-Policy
// runs no inline script. Without JavaScript the form's <noscript> button does the same.
"use strict";
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-submit-on-change") && target.form) {
    target.form.submit();
  }
});
