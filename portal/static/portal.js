/* Portico client portal: the menu button on small screens. A static file, because the
   portal's Content-Security-Policy refuses inline scripts. Loaded in <head> without defer so
   the page is marked as scripted before it is drawn (no flash of an open menu); without it the
   navigation simply stays open as a list. */
(function () {
  "use strict";
  document.documentElement.classList.add("pt-js");

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".pt-menu-button");
    if (!button) {
      return;
    }
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", function () {
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(button, false);
        button.focus();
      }
    });
    document.addEventListener("click", function (event) {
      var inside = button.contains(event.target) || (menu && menu.contains(event.target));
      if (!inside && button.getAttribute("aria-expanded") === "true") {
        setOpen(button, false);
      }
    });
  });
})();
