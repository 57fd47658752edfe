// A record's Documents tab: tick all rows; drop files on the upload zone; upload each file in
// its own request with a progress bar, so a refused file says why next to its name while the
// files before it stay uploaded. Without this script the form posts all files at once.
(function () {
  "use strict";

  function errorOf(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (typeof body.error === "string") { return body.error; }
      if (body.error && body.error.message) { return body.error.message; }
    } catch (ignored) { /* not JSON: a proxy's page, a dropped connection */ }
    return "The upload failed (" + (xhr.status || "no answer") + "). Try again.";
  }

  function progressItem(list, file) {
    var item = document.createElement("li");
    item.className = "mb-1 pt-upload-item";
    var name = document.createElement("div");
    name.className = "small";
    name.textContent = file.name;
    var bar = document.createElement("div");
    bar.className = "progress";
    bar.style.height = "0.6rem";
    var fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.setAttribute("role", "progressbar");
    fill.setAttribute("aria-label", "Upload of " + file.name);
    fill.setAttribute("aria-valuemin", "0");
    fill.setAttribute("aria-valuemax", "100");
    fill.setAttribute("aria-valuenow", "0");
    fill.style.width = "0%";
    bar.appendChild(fill);
    var status = document.createElement("div");
    status.className = "small pt-upload-status";
    item.appendChild(name);
    item.appendChild(bar);
    item.appendChild(status);
    list.appendChild(item);
    return {
      item: item,
      progress: function (percent) {
        fill.style.width = percent + "%";
        fill.setAttribute("aria-valuenow", String(percent));
      },
      done: function () {
        this.progress(100);
        fill.classList.add("bg-success");
        status.className = "small pt-upload-status text-success";
        status.textContent = "Uploaded";
        item.setAttribute("data-state", "done");
      },
      refused: function (message) {
        fill.classList.add("bg-danger");
        status.className = "small pt-upload-status text-danger";
        status.textContent = message;
        item.setAttribute("data-state", "refused");
      }
    };
  }

  function addRows(documents) {
    var body = document.querySelector("#pt-doc-table tbody");
    if (!body) { return; }
    documents.forEach(function (doc) {
      var holder = document.createElement("tbody");
      holder.innerHTML = doc.row;
      var row = holder.firstElementChild;
      if (row) { body.insertBefore(row, body.firstChild); }
    });
    var empty = document.getElementById("pt-doc-empty");
    if (empty) { empty.hidden = true; }
  }

  function sendOne(form, file, single, shown) {
    return new Promise(function (resolve) {
      var data = new FormData();
      ["csrf_token", "category_id", "product_id"].forEach(function (name) {
        var field = form.elements[name];
        if (field) { data.append(name, field.value); }
      });
      if (single && form.elements.title) { data.append("title", form.elements.title.value); }
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          shown.progress(Math.min(99, Math.round((event.loaded / event.total) * 100)));
        }
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          var body = JSON.parse(xhr.responseText);
          addRows(body.documents || []);
          shown.done();
        } else {
          shown.refused(errorOf(xhr));
        }
        resolve();
      };
      xhr.onerror = function () { shown.refused(errorOf(xhr)); resolve(); };
      xhr.send(data);
    });
  }

  function upload(form) {
    var input = form.elements.files;
    var files = Array.prototype.slice.call(input.files || []);
    var list = document.getElementById("pt-doc-progress");
    if (!files.length || !list || !window.FormData || !window.Promise) { return false; }
    list.innerHTML = "";
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    var single = files.length === 1;
    var shown = files.map(function (file) { return progressItem(list, file); });
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    // One after another: each file is its own request, kept or refused on its own. A file
    // over the limit is not sent at all (the server would refuse it with the same words).
    var chain = Promise.resolve();
    files.forEach(function (file, index) {
      chain = chain.then(function () {
        if (maxBytes && file.size > maxBytes) {
          shown[index].refused(file.name + ": The file is larger than " +
            form.getAttribute("data-max-mb") + " MB; upload a smaller one.");
          return null;
        }
        return sendOne(form, file, single, shown[index]);
      });
    });
    chain.then(function () {
      input.value = "";
      if (form.elements.title) { form.elements.title.value = ""; }
      if (button) { button.disabled = false; }
      list.setAttribute("data-finished", "true");
    });
    return true;
  }

  function onReady() {
    var form = document.getElementById("pt-doc-upload");
    if (form) {
      form.addEventListener("submit", function (event) {
        if (upload(form)) { event.preventDefault(); }
      });
      var zone = document.getElementById("pt-doc-drop");
      if (zone) {
        ["dragenter", "dragover"].forEach(function (name) {
          zone.addEventListener(name, function (event) {
            event.preventDefault();
            zone.classList.add("border-primary");
          });
        });
        zone.addEventListener("dragleave", function () { zone.classList.remove("border-primary"); });
        zone.addEventListener("drop", function (event) {
          event.preventDefault();
          zone.classList.remove("border-primary");
          if (event.dataTransfer && event.dataTransfer.files.length) {
            form.elements.files.files = event.dataTransfer.files;
            upload(form);
          }
        });
      }
    }
    // Just shared: offer the notification as a dialog, over the Documents tab.
    var offer = document.getElementById("pt-notify-modal");
    if (offer && window.jQuery) {
      var tab = document.getElementById("tab-documents");
      if (tab) { window.jQuery(tab).tab("show"); }
      // A dialog inside the tab pane would sit under its own backdrop: it belongs to the body.
      document.body.appendChild(offer);
      window.jQuery(offer).modal({ backdrop: "static", show: true });
    }
    var all = document.getElementById("pt-doc-tick-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("#pt-doc-table .pt-doc-tick").forEach(function (box) {
          box.checked = all.checked;
        });
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }
})();
