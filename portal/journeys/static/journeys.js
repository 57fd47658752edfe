/* Portico journeys: an upload step's progress bar while the files go up (a phone on a slow
   connection sends photos for a while). Sent, the visitor goes on to the next step's own page
   (it may need scripts and styles of its own, the signing page's); sent back with errors, the
   answer's main part replaces the form's. Without scripts the form simply posts. A static file:
   the journeys' Content-Security-Policy refuses inline scripts. */
(function () {
  "use strict";
  /* Scripted: the signing page's fields sit at their places over the page images (sign.css),
     rather than in rows under each page. Set before sign.js places them on DOMContentLoaded. */
  document.documentElement.classList.add("pt-js");
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var bar = form.classList && form.classList.contains("jr-upload") && form.querySelector(".pt-progress");
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
      if (xhr.responseURL && xhr.responseURL !== form.action) {
        window.location.assign(xhr.responseURL);  /* taken: the next step */
        return;
      }
      var answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var main = answer.querySelector("main");
      if (!main) {
        window.location.reload();
        return;
      }
      document.querySelector("main").replaceWith(main);
      document.title = answer.title;
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
