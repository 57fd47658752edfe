// Flask-Admin wires a few controls with inline handlers (onclick="..."), which the staff
// panel's Content-Security-Policy refuses. Our templates mark them with data attributes
// instead, and this file binds them.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    // "Add <inline form>" (a workflow's actions, for example).
    var add = event.target.closest("[data-pt-inline-add]");
    if (add && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(add, add.getAttribute("data-pt-inline-add"));
      return;
    }
    // Buttons that ask first (the list's delete buttons).
    var ask = event.target.closest("[data-pt-confirm]");
    if (ask && !window.confirm(ask.getAttribute("data-pt-confirm"))) {
      event.preventDefault();
    }
  });
})();
