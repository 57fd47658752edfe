/* Add certificate holder: the "I understand" tick shows for Yes, the reason for No. Without
   scripts both are shown and the server says which one the answer needs. A static file,
   because the portal's Content-Security-Policy refuses inline scripts. */
(function () {
  "use strict";

  function update(form) {
    var chosen = form.querySelector('input[name="meets"]:checked');
    var answer = chosen ? chosen.value : "";
    form.querySelectorAll("[data-certificate-answer]").forEach(function (part) {
      var shown = part.getAttribute("data-certificate-answer") === answer;
      part.hidden = !shown;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector(".pt-certificate-holder");
    if (!form) {
      return;
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "meets") {
        update(form);
      }
    });
    update(form);
  });
})();
