/* The sign request field placer (staff): click on a page image to place a field of the chosen
   kind for the chosen signer; drag to move it; × removes it. Fields are kept in the hidden
   input #pt-fields-json as JSON, as fractions of their page (origin top-left, 0..1), and
   posted with the form. Plain script, no build step. */
(function () {
  "use strict";
  var form = document.getElementById("pt-placer-form");
  if (!form) { return; }
  var store = document.getElementById("pt-fields-json");
  var kindInput = document.getElementById("pt-field-kind");
  var signerInput = document.getElementById("pt-field-signer");
  var requiredInput = document.getElementById("pt-field-required");
  var labelInput = document.getElementById("pt-field-label");
  var list = document.getElementById("pt-field-list");
  var none = document.getElementById("pt-field-none");
  var counter = document.getElementById("pt-field-count");
  var pages = Array.prototype.slice.call(document.querySelectorAll(".pt-page"));

  // Default sizes in PDF points (1/72 inch).
  var SIZES = {
    signature: [170, 40], initials: [60, 30], date_signed: [100, 20],
    text: [150, 20], checkbox: [14, 14]
  };
  var KINDS = {};
  Array.prototype.forEach.call(kindInput.options, function (o) { KINDS[o.value] = o.text; });
  var SIGNERS = [];
  Array.prototype.forEach.call(signerInput.options, function (o) {
    SIGNERS[Number(o.value)] = o.text.replace(/^\d+\.\s*/, "");
  });

  var fields = [];
  try {
    var parsed = JSON.parse(store.value || "[]");
    if (Array.isArray(parsed)) { fields = parsed.filter(function (f) { return f && typeof f === "object"; }); }
  } catch (e) { fields = []; }

  function clamp(value, low, high) { return Math.min(Math.max(value, low), high); }
  function round(value) { return Math.round(value * 10000) / 10000; }
  function pageSize(index) {
    var el = pages[index];
    return el ? [Number(el.getAttribute("data-width")), Number(el.getAttribute("data-height"))] : [612, 792];
  }
  function imageOf(index) { return pages[index] ? pages[index].querySelector("img") : null; }

  function save() { store.value = JSON.stringify(fields); }

  function describe(f) {
    var text = "Page " + (Number(f.page) + 1) + " · " + (KINDS[f.kind] || f.kind) + " · " +
      (SIGNERS[f.signer] || "signer " + (Number(f.signer) + 1));
    if (f.label) { text += " · “" + f.label + "”"; }
    return text + (f.required ? " · required" : " · optional");
  }

  function removeAt(index) {
    fields.splice(index, 1);
    draw();
  }

  function place(box, f) {
    box.style.left = (f.x * 100) + "%";
    box.style.top = (f.y * 100) + "%";
    box.style.width = (f.width * 100) + "%";
    box.style.height = (f.height * 100) + "%";
  }

  function startDrag(event, box, f) {
    if (event.target.closest(".pt-field-remove")) { return; }
    var img = imageOf(f.page);
    if (!img) { return; }
    event.preventDefault();
    var rect = img.getBoundingClientRect();
    var startX = event.clientX, startY = event.clientY, x0 = f.x, y0 = f.y;
    if (box.setPointerCapture) { box.setPointerCapture(event.pointerId); }
    function move(e) {
      f.x = round(clamp(x0 + (e.clientX - startX) / rect.width, 0, 1 - f.width));
      f.y = round(clamp(y0 + (e.clientY - startY) / rect.height, 0, 1 - f.height));
      place(box, f);
    }
    function end() {
      box.removeEventListener("pointermove", move);
      box.removeEventListener("pointerup", end);
      box.removeEventListener("pointercancel", end);
      save();
      drawList();
    }
    box.addEventListener("pointermove", move);
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
  }

  function drawList() {
    list.textContent = "";
    fields.forEach(function (f, index) {
      var item = document.createElement("li");
      item.className = "pt-signer-key pt-signer-" + (Number(f.signer) % 6);
      item.appendChild(document.createTextNode(describe(f) + " "));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-link btn-sm p-0";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + describe(f));
      remove.addEventListener("click", function () { removeAt(index); });
      item.appendChild(remove);
      list.appendChild(item);
    });
    counter.textContent = String(fields.length);
    none.hidden = fields.length > 0;
  }

  function draw() {
    pages.forEach(function (page) { page.querySelector(".pt-page-layer").textContent = ""; });
    fields.forEach(function (f, index) {
      var page = pages[f.page];
      if (!page) { return; }  // the server says which field is wrong
      var box = document.createElement("div");
      box.className = "pt-field pt-signer-" + (Number(f.signer) % 6) + (f.required ? "" : " pt-optional");
      box.setAttribute("data-kind", f.kind);
      box.title = describe(f);
      box.appendChild(document.createTextNode((KINDS[f.kind] || f.kind) + (f.label ? ": " + f.label : "")));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "pt-field-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "Remove " + describe(f));
      remove.addEventListener("click", function (e) { e.stopPropagation(); removeAt(index); });
      box.appendChild(remove);
      place(box, f);
      box.addEventListener("pointerdown", function (e) { startDrag(e, box, f); });
      page.querySelector(".pt-page-layer").appendChild(box);
    });
    save();
    drawList();
  }

  pages.forEach(function (page, index) {
    var img = page.querySelector("img");
    img.addEventListener("click", function (event) {
      var rect = img.getBoundingClientRect();
      if (!rect.width || !rect.height) { return; }
      var kind = kindInput.value;
      var size = pageSize(index);
      var points = SIZES[kind] || SIZES.text;
      var width = Math.min(points[0] / size[0], 1);
      var height = Math.min(points[1] / size[1], 1);
      var fx = (event.clientX - rect.left) / rect.width;
      var fy = (event.clientY - rect.top) / rect.height;
      var labelled = kind === "text" || kind === "checkbox";
      fields.push({
        page: index,
        x: round(clamp(fx, 0, 1 - width)),
        y: round(clamp(fy, 0, 1 - height)),
        width: round(width),
        height: round(height),
        kind: kind,
        signer: Number(signerInput.value) || 0,
        required: requiredInput.checked,
        label: labelled ? labelInput.value.trim().slice(0, 120) : ""
      });
      draw();
    });
  });

  function toggleLabel() {
    var labelled = kindInput.value === "text" || kindInput.value === "checkbox";
    labelInput.disabled = !labelled;
  }
  kindInput.addEventListener("change", toggleLabel);
  toggleLabel();
  form.addEventListener("submit", save);
  draw();
}());
