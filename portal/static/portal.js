/* Portico client portal: the menu button on small screens, and an upload's progress. A static
   file, because the portal's Content-Security-Policy refuses inline scripts. Loaded in <head>
   without defer so the page is marked as scripted before it is drawn (no flash of an open
   menu); without it the navigation simply stays open as a list. */
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

  /* The navigation's "More" menu works as a <details> without scripts; with them, Escape or a
     click elsewhere closes it, as it does the phone's menu. */
  document.addEventListener("keydown", function (event) {
    var open = document.querySelector(".pt-more details[open]");
    if (event.key === "Escape" && open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    var open = document.querySelector(".pt-more details[open]");
    if (open && !open.contains(event.target)) {
      open.removeAttribute("open");
    }
  });

  /* Sending documents: a progress bar while the files go up. The answer (the page with its
     message, or the form with its errors) replaces the page's main part, as a plain submit
     would show it; without scripts the form simply posts. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var bar = form.classList && form.classList.contains("pt-upload") && form.querySelector(".pt-progress");
    if (!bar || !window.FormData || !window.DOMParser) {
      return;
    }
    event.preventDefault();
    var progress = bar.querySelector("progress");
    var submit = form.querySelector("button[type=submit]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        progress.value = Math.round((e.loaded / e.total) * 100);
      }
    });
    xhr.addEventListener("load", function () {
      var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var main = answer.querySelector("main");
      if (!main) {
        document.open();
        document.write(xhr.responseText);
        document.close();
        return;
      }
      document.querySelector("main").replaceWith(main);
      document.title = answer.title;
      if (xhr.responseURL) {
        history.replaceState(null, "", xhr.responseURL);
      }
      main.focus();
    });
    xhr.addEventListener("error", function () {
      bar.hidden = true;
      submit.disabled = false;
      form.submit();
    });
    bar.hidden = false;
    submit.disabled = true;
    xhr.send(new FormData(form));
  });
})();
