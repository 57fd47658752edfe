// Journeys in the staff panel: the Copy buttons of a journey's page, and forms that show only
// what applies: a step's signature layout for signature steps, a field's settings for the
// types that use them.
(function () {
  "use strict";

  // Which field types use a setting of a step's field.
  var SETTING_USED_BY = {
    options: ["choice"],
    min: ["number", "date"],
    max: ["number", "date"],
    max_length: ["text", "long_text"]
  };

  function group(id) {
    var field = document.getElementById(id);
    return field ? field.closest(".form-group") : null;
  }

  function showStepFields(kindSelect) {
    var prefix = kindSelect.id.slice(0, -"kind".length);
    var box = group(prefix + "sign_template");
    if (box) { box.hidden = kindSelect.value !== "" && kindSelect.value !== "sign"; }
  }

  // The saved kind of the step whose page this is ("" elsewhere): an upload step's fields
  // are file slots, a form step's are questions.
  function stepKind() {
    var marker = document.getElementById("pt-step-kind");
    return marker ? marker.getAttribute("data-kind") : "";
  }

  function showFieldSettings(typeSelect) {
    var prefix = typeSelect.id.slice(0, -"field_type".length);
    var kind = stepKind();
    var file = typeSelect.querySelector("option[value='file']");
    if (kind === "upload") {
      typeSelect.value = "file";
      group(typeSelect.id).hidden = true;
    } else if (kind === "form" && file) {
      file.hidden = true;
      file.disabled = true;
    }
    Object.keys(SETTING_USED_BY).forEach(function (name) {
      var box = group(prefix + name);
      if (box) { box.hidden = SETTING_USED_BY[name].indexOf(typeSelect.value) === -1; }
    });
  }

  function showAll() {
    document.querySelectorAll("select[id$='kind']").forEach(function (select) {
      if (select.closest(".inline-field-template")) { return; }
      showStepFields(select);
    });
    document.querySelectorAll("select[id$='field_type']").forEach(function (select) {
      if (select.closest(".inline-field-template")) { return; }
      showFieldSettings(select);
    });
  }

  function onChange(target) {
    if (!target.matches || !target.matches("select")) { return; }
    if (/kind$/.test(target.id)) { showStepFields(target); }
    if (/field_type$/.test(target.id)) { showFieldSettings(target); }
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-pt-copy"));
    if (!source) { return; }
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, function () {
        source.select();
      });
    } else {
      source.select();
      if (document.execCommand && document.execCommand("copy")) { done(); }
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-pt-copy]");
    if (button) {
      event.preventDefault();
      copy(button);
      return;
    }
    // A new inline row (added by staff.js, whose listener runs first) starts tidy too.
    if (event.target.closest("[data-pt-inline-add]")) { showAll(); }
  });
  document.addEventListener("change", function (event) { onChange(event.target); });

  function onReady() {
    showAll();
    // Select2 reports changes through jQuery only.
    if (window.jQuery) {
      window.jQuery(document).on("change", "select", function () { onChange(this); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }
})();
