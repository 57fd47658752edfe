/* Portico client portal: the signing page. Places the signer's fields over the page images
   (by their fractions of the page, so they scale with the image), opens the signature dialog
   (Draw with signature_pad, or Type in the handwriting font), keeps a draft on the server on
   every change (JSON with the CSRF token in a header) and restores it on load; Finish is a
   plain form POST carrying the signature as a data URL. A static file: the portal's
   Content-Security-Policy refuses inline scripts. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("pt-sign-form");
    var dataNode = document.getElementById("pt-sign-data");
    if (!form || !dataNode) {
      return;
    }
    var data = JSON.parse(dataNode.textContent);
    var msg = data.messages || {};
    var draft = data.draft || {};
    var csrf = form.querySelector("input[name=csrf_token]").value;
    var status = document.getElementById("pt-sign-saved");

    /* -- fields over their page ------------------------------------------------------------ */
    var fields = Array.prototype.slice.call(form.querySelectorAll(".pt-sign-field"));

    function pct(value) {
      return (parseFloat(value) * 100).toFixed(4) + "%";
    }

    /* A field drawn small on a narrow screen still gets a finger-sized box (sign.css sets
       its minimum); grown, it is pulled back so that it stays on its page. */
    function place() {
      fields.forEach(function (el) {
        var page = el.parentNode;
        el.style.left = pct(el.dataset.x);
        el.style.top = pct(el.dataset.y);
        el.style.width = pct(el.dataset.w);
        el.style.height = pct(el.dataset.h);
        if (el.offsetLeft + el.offsetWidth > page.clientWidth) {
          el.style.left = Math.max(0, page.clientWidth - el.offsetWidth) + "px";
        }
        if (el.offsetTop + el.offsetHeight > page.clientHeight) {
          el.style.top = Math.max(0, page.clientHeight - el.offsetHeight) + "px";
        }
        var height = Math.max(parseFloat(el.dataset.h) * page.clientHeight, el.offsetHeight);
        el.style.fontSize = Math.max(8, Math.min(height * 0.6, 22)).toFixed(1) + "px";
      });
    }
    place();
    window.addEventListener("resize", place);
    Array.prototype.forEach.call(form.querySelectorAll(".pt-sign-page img"), function (img) {
      img.addEventListener("load", place);
    });

    /* -- signature and initials: the hidden inputs Finish sends ----------------------------- */
    var marks = { signature: null, initials: null };

    function hidden(kind, key) {
      return document.getElementById(kind + "_" + key);
    }

    function show(kind) {
      var mark = marks[kind];
      var buttons = form.querySelectorAll('.pt-sign-here[data-mark="' + kind + '"]');
      Array.prototype.forEach.call(buttons, function (button) {
        button.textContent = "";
        button.classList.toggle("pt-signed", !!mark);
        if (!mark) {
          button.textContent = kind === "signature" ? msg.signHere : msg.initialsHere;
          button.removeAttribute("aria-label");
          return;
        }
        if (mark.style === "drawn") {
          var img = document.createElement("img");
          img.src = mark.image;
          img.alt = "";
          button.appendChild(img);
        } else {
          var span = document.createElement("span");
          span.className = "pt-sign-script";
          span.textContent = mark.text;
          button.appendChild(span);
        }
        button.setAttribute("aria-label", msg.change + " (" + msg[kind] + ")");
      });
    }

    function setMark(kind, mark) {
      marks[kind] = mark;
      hidden(kind, "style").value = mark ? mark.style : "";
      hidden(kind, "image").value = mark && mark.style === "drawn" ? mark.image : "";
      hidden(kind, "text").value = mark && mark.style === "typed" ? mark.text : "";
      show(kind);
    }

    ["signature", "initials"].forEach(function (kind) {
      var style = hidden(kind, "style").value;
      var saved = draft[kind];
      if (style === "drawn" && hidden(kind, "image").value) {
        setMark(kind, { style: "drawn", image: hidden(kind, "image").value });
      } else if (style === "typed" && hidden(kind, "text").value) {
        setMark(kind, { style: "typed", text: hidden(kind, "text").value });
      } else if (saved && saved.style === "drawn" && saved.image) {
        setMark(kind, { style: "drawn", image: saved.image });
      } else if (saved && saved.style === "typed" && saved.text) {
        setMark(kind, { style: "typed", text: saved.text });
      }
    });

    /* -- the draft ------------------------------------------------------------------------- */
    var timer = null;

    function collect() {
      var values = {};
      Array.prototype.forEach.call(form.querySelectorAll("[data-field]"), function (el) {
        values[el.dataset.field] = el.type === "checkbox" ? (el.checked ? "1" : "") : el.value;
      });
      var out = { fields: values };
      ["signature", "initials"].forEach(function (kind) {
        var mark = marks[kind];
        if (mark) {
          out[kind] = mark.style === "drawn"
            ? { style: "drawn", image: mark.image }
            : { style: "typed", text: mark.text };
        }
      });
      return out;
    }

    function send(keepalive) {
      timer = null;
      status.textContent = msg.saving;
      return fetch(data.draftUrl, {
        method: "POST",
        credentials: "same-origin",
        keepalive: !!keepalive,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(collect())
      }).then(function (response) {
        status.textContent = response.ok ? msg.saved : msg.notSaved;
      }, function () {
        status.textContent = msg.notSaved;
      });
    }

    function save() {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(send, 500);
    }

    form.addEventListener("input", save);
    form.addEventListener("change", save);
    window.addEventListener("pagehide", function () {
      if (timer) {
        clearTimeout(timer);
        send(true);
      }
    });

    /* -- the dialog: Draw or Type ----------------------------------------------------------- */
    var dialog = document.getElementById("pt-sign-dialog");
    var title = document.getElementById("pt-sign-dialog-title");
    var canvas = document.getElementById("pt-sign-canvas");
    var typed = document.getElementById("pt-sign-typed");
    var typedLabel = dialog.querySelector("label[for=pt-sign-typed]");
    var preview = document.getElementById("pt-sign-preview");
    var error = document.getElementById("pt-sign-dialog-error");
    var tabs = { draw: document.getElementById("pt-tab-draw"), type: document.getElementById("pt-tab-type") };
    var pad = new window.SignaturePad(canvas, { penColor: "#0b1f44", minWidth: 0.8, maxWidth: 2.8 });
    var current = "signature";
    var tab = "draw";
    var opener = null;

    function fitCanvas() {
      // Sharp on dense screens, yet never wider than the 2000 pixels a signature may be.
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      ratio = Math.min(ratio, 1800 / Math.max(canvas.offsetWidth, 1), 1800 / Math.max(canvas.offsetHeight, 1));
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    }

    function select(name, focus) {
      tab = name;
      Object.keys(tabs).forEach(function (key) {
        var on = key === name;
        tabs[key].setAttribute("aria-selected", on ? "true" : "false");
        tabs[key].tabIndex = on ? 0 : -1;
        document.getElementById(tabs[key].getAttribute("aria-controls")).hidden = !on;
      });
      if (name === "draw") {
        fitCanvas();
      }
      if (focus) {
        tabs[name].focus();
      }
      error.hidden = true;
    }

    Object.keys(tabs).forEach(function (key) {
      tabs[key].addEventListener("click", function () {
        select(key, false);
      });
      tabs[key].addEventListener("keydown", function (event) {
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          select(key === "draw" ? "type" : "draw", true);
          event.preventDefault();
        }
      });
    });

    function initialsOf(name) {
      return name.split(/\s+/).filter(Boolean).map(function (part) {
        return part.charAt(0).toUpperCase();
      }).join("").slice(0, 4);
    }

    function updatePreview() {
      preview.textContent = typed.value;
    }
    typed.addEventListener("input", updatePreview);

    function open(kind, button) {
      current = kind;
      opener = button;
      title.textContent = msg[kind];
      typedLabel.textContent = kind === "initials" ? msg.typeInitials : msg.typeName;
      typed.maxLength = kind === "initials" ? 20 : 120;
      var mark = marks[kind];
      typed.value = mark && mark.style === "typed"
        ? mark.text
        : (kind === "initials" ? initialsOf(data.name || "") : data.name || "");
      updatePreview();
      error.hidden = true;
      if (typeof dialog.showModal === "function") {
        dialog.showModal();
      } else {
        dialog.setAttribute("open", "");
      }
      pad.clear();
      select(mark && mark.style === "typed" ? "type" : "draw", false);
      pad.clear();
    }

    function close() {
      if (typeof dialog.close === "function") {
        dialog.close();
      } else {
        dialog.removeAttribute("open");
      }
      if (opener) {
        opener.focus();
      }
    }

    /* The drawing cut to its ink (plus a margin), so it fills the field it is placed in. */
    function inked() {
      var width = canvas.width;
      var height = canvas.height;
      var pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
      var left = width, top = height, right = -1, bottom = -1;
      for (var y = 0; y < height; y += 1) {
        for (var x = 0; x < width; x += 1) {
          if (pixels[(y * width + x) * 4 + 3] > 0) {
            if (x < left) { left = x; }
            if (x > right) { right = x; }
            if (y < top) { top = y; }
            if (y > bottom) { bottom = y; }
          }
        }
      }
      if (right < 0) {
        return canvas.toDataURL("image/png");
      }
      var margin = 6;
      left = Math.max(0, left - margin);
      top = Math.max(0, top - margin);
      right = Math.min(width - 1, right + margin);
      bottom = Math.min(height - 1, bottom + margin);
      var out = document.createElement("canvas");
      out.width = right - left + 1;
      out.height = bottom - top + 1;
      out.getContext("2d").drawImage(canvas, left, top, out.width, out.height, 0, 0, out.width, out.height);
      return out.toDataURL("image/png");
    }

    function refuse(text) {
      error.textContent = text;
      error.hidden = false;
    }

    document.getElementById("pt-sign-clear").addEventListener("click", function () {
      pad.clear();
    });
    document.getElementById("pt-sign-cancel").addEventListener("click", close);
    dialog.addEventListener("cancel", function () {
      if (opener) {
        setTimeout(function () { opener.focus(); }, 0);
      }
    });
    document.getElementById("pt-sign-adopt").addEventListener("click", function () {
      var mark;
      if (tab === "draw") {
        if (pad.isEmpty()) {
          refuse(msg.drawFirst);
          return;
        }
        mark = { style: "drawn", image: inked() };
      } else {
        var text = typed.value.replace(/\s+/g, " ").trim();
        if (!text) {
          refuse(msg.typeFirst);
          typed.focus();
          return;
        }
        mark = { style: "typed", text: text };
      }
      setMark(current, mark);
      close();
      if (timer) {
        clearTimeout(timer);
      }
      send(false);
    });
    window.addEventListener("resize", function () {
      if (dialog.open && tab === "draw") {
        fitCanvas();
      }
    });

    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest(".pt-sign-here");
      if (button) {
        open(button.dataset.mark, button);
      }
    });

    /* -- Finish ---------------------------------------------------------------------------- */
    form.addEventListener("submit", function (event) {
      if (form.querySelector('.pt-sign-here[data-mark="signature"]') && !marks.signature) {
        event.preventDefault();
        status.textContent = msg.signFirst;
        open("signature", form.querySelector('.pt-sign-here[data-mark="signature"]'));
        return;
      }
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      document.getElementById("pt-sign-finish").disabled = true;
    });
  });
})();
