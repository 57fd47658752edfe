// Binds the list's "With selected" items to Flask-Admin's modelActions (no inline handlers).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var item = event.target.closest("[data-pt-action]");
    if (!item || !window.modelActions) { return; }
    event.preventDefault();
    window.modelActions.execute(item.getAttribute("data-pt-action"));
  });
})();
